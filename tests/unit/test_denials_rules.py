"""Denial classification and flagging, as the billing team would state them."""
from __future__ import annotations

from datetime import UTC, date, datetime

from processors.denials.rules import classify_adjustment, denial_category, flag_denials

OCCURRED = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
EMITTED = datetime(2026, 3, 10, 15, 31, tzinfo=UTC)


def adj(group, carc, amount):
    return {"group_code": group, "reason_code": carc, "amount_cents": amount}


def remittance(lines, claim_adjustments=(), remarks=(), payer_id="MEDICARE", status="1"):
    return {
        "event_id": "rem-ev-1", "remittance_id": "R1", "account_id": "A0000000018",
        "claim_id": "CLM-E1", "occurred_at": OCCURRED, "emitted_at": EMITTED,
        "payer_id": payer_id, "payer_claim_control_number": "PCN", "trace_number": "T",
        "claim_status": status, "total_charge_cents": sum(ln["charge_cents"] for ln in lines),
        "total_paid_cents": sum(ln["paid_cents"] for ln in lines), "patient_responsibility_cents": 0,
        "claim_adjustments": list(claim_adjustments), "lines": list(lines), "remarks": list(remarks),
    }


def line(n, charge, paid, adjustments, remarks=()):
    return {"line": n, "procedure_code": "99213", "units": 1, "charge_cents": charge,
            "paid_cents": paid, "adjustments": adjustments, "remarks": list(remarks)}


def test_contractual_adjustment_is_not_a_denial():
    assert classify_adjustment("CO", "45") == "CONTRACTUAL"
    assert classify_adjustment("CO", "253") == "CONTRACTUAL"
    assert flag_denials(remittance([line(1, 10000, 8000, [adj("CO", "45", 2000)])])) == []


def test_patient_responsibility_is_never_a_denial():
    for carc in ("1", "2", "3", "50", "197"):
        assert classify_adjustment("PR", carc) == "PATIENT"


def test_denial_table_carcs_under_co_pi_oa_are_denials():
    for group in ("CO", "PI", "OA"):
        for carc in ("4", "11", "16", "18", "22", "27", "29", "31", "50", "96", "97", "109", "146",
                     "151", "167", "197", "204", "234", "252"):
            assert classify_adjustment(group, carc) == "DENIAL", (group, carc)


def test_correction_reversal_and_unlisted_reasons_are_other():
    assert classify_adjustment("CR", "16") == "OTHER"
    assert classify_adjustment("CO", "23") == "OTHER"
    assert classify_adjustment("OA", "45") == "OTHER"


def test_categories_follow_the_work_needed_to_fix_them():
    assert denial_category("CO", "27") == ("ELIGIBILITY", True)
    assert denial_category("CO", "22") == ("ELIGIBILITY", True)
    assert denial_category("CO", "197") == ("AUTHORIZATION", True)
    assert denial_category("CO", "146") == ("CODING", True)
    assert denial_category("CO", "50")[0] == "MEDICAL_NECESSITY"
    assert denial_category("CO", "29") == ("TIMELY_FILING", True)
    assert denial_category("OA", "18") == ("DUPLICATE", True)
    assert denial_category("CO", "16") == ("MISSING_INFORMATION", True)
    assert denial_category("CO", "97") == ("BUNDLING", True)
    assert denial_category("CO", "96") == ("NON_COVERED", False)
    assert denial_category("CO", "999") == ("OTHER", False)


def test_denial_carries_amount_deadline_and_remarks():
    remit = remittance([line(1, 10000, 8000, [adj("CO", "45", 2000)]),
                        line(2, 5000, 0, [adj("CO", "197", 5000)], remarks=["N54"])],
                       remarks=["MA01"], payer_id="MEDICAID")
    [denial] = flag_denials(remit)
    assert denial["event_id"] == denial["denial_id"] == "rem-ev-1:denial:2:0"
    assert denial["line"] == 2 and denial["amount_cents"] == 5000
    assert denial["category"] == "AUTHORIZATION" and denial["preventable"] is True
    assert denial["denied_on"] == date(2026, 3, 10)
    assert denial["appeal_deadline"] == date(2026, 6, 8)  # Medicaid: 90 days
    assert denial["remarks"] == ["N54", "MA01"]
    assert denial["source_event_id"] == "rem-ev-1" and denial["source_emitted_at"] == EMITTED


def test_claim_level_denial_has_no_line():
    remit = remittance([line(1, 10000, 10000, [])], claim_adjustments=[adj("OA", "18", 700)],
                       remarks=["M1"])
    [denial] = flag_denials(remit)
    assert denial["line"] is None and denial["event_id"] == "rem-ev-1:denial:0:0"
    assert denial["remarks"] == ["M1"]


def test_fully_denied_claim_flags_every_line():
    remit = remittance([line(1, 4000, 0, [adj("CO", "27", 4000)]),
                        line(2, 6000, 0, [adj("CO", "27", 6000)])], status="4")
    denials = flag_denials(remit)
    assert [d["line"] for d in denials] == [1, 2]
    assert sum(d["amount_cents"] for d in denials) == 10000


def test_unknown_payer_gets_the_default_appeal_window():
    [denial] = flag_denials(remittance([line(1, 100, 0, [adj("CO", "16", 100)])], payer_id="NOPE"))
    assert denial["appeal_deadline"] == date(2026, 6, 8)


def test_denials_encode_as_denial_flagged():
    from schemas import codec
    for denial in flag_denials(remittance([line(1, 100, 0, [adj("PI", "50", 100)])])):
        assert codec.decode(codec.encode("DenialFlagged", denial))[1] == denial


def test_a_reversal_of_a_denied_claim_flags_no_new_denial():
    def line(cents):
        return {"line": 1, "procedure_code": "99213", "units": 1, "charge_cents": cents,
                "paid_cents": 0, "adjustments": [adj("CO", "50", cents)], "remarks": []}

    assert flag_denials(remittance([line(-14500)], status="22")) == []
    assert len(flag_denials(remittance([line(14500)], status="4"))) == 1


def test_every_category_has_an_owner_queue_and_denials_carry_it():
    from processors.denials.rules import _PREVENTABLE, OWNER_QUEUE

    assert set(OWNER_QUEUE) == set(_PREVENTABLE)
    [auth] = flag_denials(remittance([{"line": 1, "procedure_code": "99213", "units": 1,
                                       "charge_cents": 14500, "paid_cents": 0,
                                       "adjustments": [adj("CO", "197", 14500)], "remarks": []}],
                                     status="4"))
    assert (auth["category"], auth["owner_queue"]) == ("AUTHORIZATION", "UTILIZATION_MANAGEMENT")
