"""Ledger rules: validation reasons and the entries each money event posts."""
from __future__ import annotations

import ast
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

from processors.ledger import rules
from processors.ledger.rules import (
    entries_for_encounter,
    entries_for_payment,
    entries_for_remittance,
    validate_payment,
    validate_remittance,
)
from schemas import codec
from schemas.accounts import make_account_id

ACCOUNT = make_account_id(42)
AT = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
EMITTED = datetime(2026, 2, 1, 9, 0, 5, tzinfo=UTC)


def adj(group, carc, amount):
    return {"group_code": group, "reason_code": carc, "amount_cents": amount}


def line(n, charge, paid, adjustments, units=1):
    return {"line": n, "procedure_code": "99213", "units": units, "charge_cents": charge,
            "paid_cents": paid, "adjustments": adjustments, "remarks": []}


def remittance(lines, claim_adjustments=(), account=ACCOUNT, total_paid=None):
    return {
        "event_id": "rem-1", "remittance_id": "R1", "account_id": account, "claim_id": "CLM-E1",
        "occurred_at": AT, "emitted_at": EMITTED, "payer_id": "COMM-ACME",
        "payer_claim_control_number": "P1", "trace_number": "T1", "claim_status": "1",
        "total_charge_cents": sum(ln["charge_cents"] for ln in lines),
        "total_paid_cents": sum(ln["paid_cents"] for ln in lines) if total_paid is None else total_paid,
        "patient_responsibility_cents": 0, "claim_adjustments": list(claim_adjustments),
        "lines": list(lines), "remarks": [],
    }


def encounter(plan_type="COMMERCIAL"):
    return {
        "event_id": "enc-1", "encounter_id": "E1", "account_id": ACCOUNT, "occurred_at": AT,
        "emitted_at": EMITTED, "patient_age": 40, "patient_sex": "F",
        "payer_id": "SELFPAY" if plan_type == "SELF_PAY" else "COMM-ACME", "plan_type": plan_type,
        "provider_npi": "1234567893", "facility_id": "F1", "encounter_class": "OFFICE",
        "service_start": date(2026, 2, 1), "service_end": date(2026, 2, 1),
        "diagnoses": [{"sequence": 1, "text": "cough", "code": None}],
        "charges": [
            {"line": 1, "charge_code": "C1", "units": 1, "unit_price_cents": 15000,
             "service_date": date(2026, 2, 1)},
            {"line": 2, "charge_code": "C2", "units": 3, "unit_price_cents": 1250,
             "service_date": date(2026, 2, 1)},
        ],
    }


def payment(kind="PAYMENT", amount=2500, account=ACCOUNT):
    return {"event_id": "pay-1", "payment_id": "P1", "account_id": account, "occurred_at": AT,
            "emitted_at": EMITTED, "kind": kind, "method": "CARD", "amount_cents": amount}


def balance(entries):
    ins = sum(e["insurance_delta_cents"] for e in entries)
    pat = sum(e["patient_delta_cents"] for e in entries)
    return ins, pat


def test_charges_go_to_insurance_for_an_insured_patient():
    entries = entries_for_encounter(encounter())
    assert [e["kind"] for e in entries] == ["CHARGE", "CHARGE"]
    assert balance(entries) == (18750, 0)
    assert entries[0]["posted_at"] == AT and entries[0]["source_emitted_at"] == EMITTED
    assert entries[0]["reference"] == "E1"


def test_charges_go_to_the_patient_when_self_pay():
    assert balance(entries_for_encounter(encounter("SELF_PAY"))) == (0, 18750)


def test_payer_payment_and_contractual_adjustment_lower_insurance():
    entries = entries_for_remittance(remittance([line(1, 15000, 9000, [adj("CO", "45", 6000)])]))
    assert [(e["kind"], e["reason"]) for e in entries] == [
        ("PAYER_PAYMENT", None), ("CONTRACTUAL_ADJUSTMENT", "CO-45")]
    assert balance(entries) == (-15000, 0)


def test_patient_responsibility_moves_to_patient_part():
    entries = entries_for_remittance(remittance(
        [line(1, 15000, 9000, [adj("CO", "45", 4000), adj("PR", "2", 1500), adj("PR", "3", 500)])]))
    transfers = [e for e in entries if e["kind"] == "TRANSFER_TO_PATIENT"]
    assert [(e["insurance_delta_cents"], e["patient_delta_cents"]) for e in transfers] == [
        (-1500, 1500), (-500, 500)]
    assert balance(entries) == (-15000, 2000)


def test_denied_amount_stays_open_in_insurance():
    charge = balance(entries_for_encounter(encounter()))
    remit = remittance([line(1, 15000, 0, [adj("CO", "197", 15000)]),
                        line(2, 3750, 3000, [adj("CO", "45", 750)])])
    entries = entries_for_remittance(remit)
    assert all(e["reason"] != "CO-197" for e in entries)
    ins, pat = balance(entries)
    assert (charge[0] + ins, charge[1] + pat) == (15000, 0)


def test_other_and_claim_level_adjustments_lower_insurance():
    remit = remittance([line(1, 10000, 9000, [adj("CR", "16", 1000)])],
                       claim_adjustments=[adj("OA", "23", 200), adj("OA", "18", 300)])
    entries = entries_for_remittance(remit)
    assert [(e["event_id"], e["kind"], e["reason"]) for e in entries] == [
        ("rem-1:paid:1", "PAYER_PAYMENT", None),
        ("rem-1:adj:1:0", "OTHER_ADJUSTMENT", "CR-16"),
        ("rem-1:adj:0:0", "OTHER_ADJUSTMENT", "OA-23"),
    ]


def test_patient_payment_lowers_the_patient_part():
    [entry] = entries_for_payment(payment())
    assert (entry["kind"], entry["insurance_delta_cents"], entry["patient_delta_cents"]) == (
        "PATIENT_PAYMENT", 0, -2500)


def test_refund_raises_patient_balance():
    [entry] = entries_for_payment(payment("REFUND", 700))
    assert (entry["kind"], entry["patient_delta_cents"]) == ("PATIENT_REFUND", 700)
    assert entry["event_id"] == "pay-1:payment" and entry["reference"] == "P1"


def test_entry_ids_are_deterministic_and_unique():
    remit = remittance([line(1, 15000, 9000, [adj("CO", "45", 4000), adj("PR", "1", 2000)]),
                        line(2, 100, 0, [adj("PR", "1", 100)])], claim_adjustments=[adj("CO", "45", 5)])
    first = entries_for_encounter(encounter()) + entries_for_remittance(remit)
    second = entries_for_encounter(encounter()) + entries_for_remittance(remit)
    assert first == second
    assert not [i for i, n in Counter(e["event_id"] for e in first).items() if n > 1]
    assert [e["event_id"] for e in first] == [
        "enc-1:charge:1", "enc-1:charge:2", "rem-1:paid:1", "rem-1:adj:1:0", "rem-1:adj:1:1",
        "rem-1:adj:2:0", "rem-1:adj:0:0"]


def test_zero_amounts_post_nothing():
    assert entries_for_remittance(remittance([line(1, 0, 0, [adj("CO", "45", 0)])])) == []


def test_journals_pack_one_record_per_source_event_and_keep_entry_ids():
    remit = remittance([line(1, 15000, 9000, [adj("CO", "45", 6000)])])
    entries = entries_for_encounter(encounter()) + entries_for_remittance(remit) + entries_for_payment(payment())
    packed = rules.journals(entries)
    assert len(packed) == len({e["source_event_id"] for e in entries})
    assert [e["entry_id"] for j in packed for e in j["entries"]] == [e["event_id"] for e in entries]
    for j in packed:
        assert codec.decode(codec.encode("LedgerEntriesPosted", j))[1] == j


def test_balanced_remittance_is_valid():
    assert validate_remittance(remittance([line(1, 15000, 9000, [adj("CO", "45", 6000)])])) == []


def test_unbalanced_remittance_line_is_rejected():
    remit = remittance([line(1, 5000, 5000, []), line(2, 12000, 9000, [adj("CO", "45", 2500)])])
    assert validate_remittance(remit) == ["line 2: charge 12000 != paid 9000 + adjustments 2500"]


def test_negative_paid_and_zero_units_are_rejected():
    remit = remittance([line(1, 1000, -500, [adj("CO", "45", 1500)], units=0)])
    assert validate_remittance(remit) == ["line 1: units 0 is not positive", "line 1: negative paid -500"]


def test_claim_total_paid_must_match_its_lines():
    remit = remittance([line(1, 1000, 800, [adj("CO", "45", 200)])], total_paid=900)
    assert validate_remittance(remit) == ["claim: total paid 900 != sum of line paid 800"]


def test_a_broken_account_id_is_rejected_without_echoing_the_account():
    bad = ACCOUNT + "\n"
    [reason] = validate_remittance(remittance([line(1, 10, 10, [])], account=bad))
    assert "leading or trailing blanks" in reason and ACCOUNT not in reason
    assert validate_payment(payment(account=" " * 8)) == ["account id is empty"]


def test_hospital_account_numbers_are_opaque_strings_without_a_check_digit():
    for account in ("4000776", "HAR123", "24000006", "9999999999", ACCOUNT[:-1] + "0"):
        assert validate_payment(payment(account=account)) == []


def test_payment_amount_must_be_positive():
    assert validate_payment(payment(amount=0)) == ["amount 0 is not positive"]
    assert validate_payment(payment()) == []


def test_ledger_rules_import_only_stdlib_schemas_and_reference_rules():
    tree = ast.parse(Path(rules.__file__).read_text())
    allowed = ("__future__", "schemas", "processors.payers", "processors.denials.rules")
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            assert node.module.startswith(allowed), node.module
        if isinstance(node, ast.Import):
            for alias in node.names:
                assert alias.name.split(".")[0] in ("datetime", "dataclasses", "typing"), alias.name

