"""Corrected claims (frequency 7/8, versions), secondary claims and the charge differences of a
corrected encounter: the pure rules, and their 837s through pyx12 and back."""
from __future__ import annotations

from datetime import date

import pytest

from processors.claims import secondary, versions
from processors.claims.rules import build_claim
from processors.ledger import corrections
from processors.state import CLAIM_STATE, ENCOUNTER_CHARGES
from schemas import codec
from schemas import topics as T
from sinks.x12.build837 import write_837
from sinks.x12.validate import validate
from tests import factories as F
from tests.sent837 import carried, read_back
from tests.support.stores import DictStore
from tests.unit.test_x12_837 import DIRECTORY, coded, envelope, proc


def built(coder, n=9, secondary_payer=None, **over):
    claim = build_claim(coded(n, **over), coder)
    claim["secondary_payer_id"] = secondary_payer
    return claim


def again(claim: dict, source: str) -> dict:
    """The same build from another source event (a re-sent encounter)."""
    return {**claim, "event_id": f"{source}:claim", "source_event_id": source}


def remit_for(claim: dict, *, status="1", pr=2000, event="rem-1", pccn="PCN77") -> dict:
    total = claim["total_charge_cents"]
    adjustments = [F.adjustment("CO", "45", 3000)] + ([F.adjustment("PR", "2", pr)] if pr else [])
    paid = total - 3000 - pr
    sign = -1 if status == "22" else 1
    line = {"line": 0, "procedure_code": "", "units": 1, "charge_cents": sign * total,
            "paid_cents": sign * paid, "remarks": [],
            "adjustments": [{**a, "amount_cents": sign * a["amount_cents"]} for a in adjustments]}
    return {**F.remittance(), "event_id": event, "claim_id": claim["claim_id"],
            "account_id": claim["account_id"], "claim_status": status,
            "payer_claim_control_number": pccn, "total_charge_cents": sign * total,
            "total_paid_cents": sign * paid, "patient_responsibility_cents": sign * pr,
            "lines": [line]}


# --- versions -----------------------------------------------------------------------------------

def test_first_build_is_version_1_an_original_with_the_id_claims_always_had(coder):
    store = DictStore(CLAIM_STATE)
    claim = versions.version_claim(built(coder), store)
    assert (claim["version"], claim["frequency_code"], claim["payer_sequence"]) == (1, "1", "PRIMARY")
    assert claim["event_id"] == "ev-9:claim" and claim["original_reference"] is None
    codec.encode(T.CLAIMS.value_schema, claim)  # a valid ClaimBuilt


def test_a_redelivered_build_re_emits_the_same_record_and_adds_no_version(coder):
    store = DictStore(CLAIM_STATE)
    first = versions.version_claim(built(coder), store)
    assert versions.version_claim(built(coder), store) == first
    assert store.get(first["claim_id"])["version"] == 1


def test_the_same_content_from_a_new_event_is_not_a_new_version(coder):
    store = DictStore(CLAIM_STATE)
    first = versions.version_claim(built(coder), store)
    assert versions.version_claim(again(built(coder), "ev-9b"), store) == first


def test_a_recoded_encounter_of_a_clean_claim_is_version_2_a_replacement_quoting_the_payer_number(coder):
    store = DictStore(CLAIM_STATE)
    first = versions.version_claim(built(coder), store)
    secondary.on_remittance(remit_for(first), store)  # the payer names it PCN77
    changed = again(built(coder, procedures=[proc(1, modifiers=["25"]), proc(2, "CM100303", "36415", 2501, units=2, rev="0300"), proc(3, "CM100301", "80053", 18500, rev="0301")]), "ev-9b")
    claim = versions.version_claim(changed, store)
    assert claim["claim_id"] == first["claim_id"]
    assert (claim["version"], claim["frequency_code"], claim["original_reference"]) == (2, "7", "PCN77")
    assert claim["event_id"] == "ev-9b:claim:v2" and len(claim["lines"]) == 3
    assert versions.version_claim(changed, store) == claim  # redelivered: idempotent


def test_a_rebuild_of_a_claim_never_sent_clean_stays_an_original(coder):
    store = DictStore(CLAIM_STATE)
    held = versions.version_claim(built(coder, codes=("E11",)), store)  # E11 is not billable
    assert held["status"] == "HELD"
    fixed = versions.version_claim(again(built(coder), "ev-9b"), store)
    assert (fixed["version"], fixed["frequency_code"], fixed["status"]) == (2, "1", "CLEAN")


def test_an_older_event_redelivered_after_a_newer_version_builds_nothing(coder):
    store = DictStore(CLAIM_STATE)
    versions.version_claim(built(coder), store)
    versions.version_claim(again(built(coder, codes=("I10",)), "ev-9b"), store)
    assert versions.version_claim(built(coder), store) is None
    assert store.get("CLM-E0000009")["version"] == 2


def test_a_cancelled_encounter_voids_the_sent_claim_with_frequency_8_and_its_last_content(coder):
    store = DictStore(CLAIM_STATE)
    first = versions.version_claim(built(coder), store)
    secondary.on_remittance(remit_for(first, pr=0), store)
    void = versions.version_claim(again(built(coder), "ev-9x"), store, cancelled=True)
    assert (void["version"], void["frequency_code"], void["status"]) == (2, "8", "CLEAN")
    assert void["lines"] == first["lines"] and void["original_reference"] == "PCN77"
    assert versions.version_claim(again(built(coder), "ev-9x"), store, cancelled=True) == void
    assert versions.version_claim(again(built(coder), "ev-9y"), store, cancelled=True) is None


def test_voiding_a_claim_never_sent_holds_it_so_nothing_goes_out_and_a_cancel_before_any_build_is_nothing(coder):
    store = DictStore(CLAIM_STATE)
    versions.version_claim(built(coder, codes=("E11",)), store)
    void = versions.version_claim(again(built(coder), "ev-9x"), store, cancelled=True)
    assert void["frequency_code"] == "8" and void["status"] == "HELD"
    assert [e["edit"] for e in void["edits"]] == ["VOIDED"]
    assert versions.version_claim(built(coder, n=10), DictStore(CLAIM_STATE), cancelled=True) is None


# --- secondary claims ---------------------------------------------------------------------------

def _primary(coder, store, secondary_payer="MEDICAID"):
    return versions.version_claim(built(coder, secondary_payer=secondary_payer), store)


def test_a_primary_remittance_leaving_pr_bills_the_secondary_and_moves_pr_back_to_insurance(coder):
    store = DictStore(CLAIM_STATE)
    primary = _primary(coder, store)
    remit = remit_for(primary, pr=2000)
    records, outcome = secondary.on_remittance(remit, store)
    assert outcome == "billed"
    (t1, sec), (t2, ledger) = records
    assert (t1, t2) == (T.CLAIMS, T.LEDGER_ENTRIES)
    assert sec["claim_id"] == primary["claim_id"] + "-S" and sec["payer_id"] == "MEDICAID"
    assert (sec["payer_sequence"], sec["primary_claim_id"], sec["plan_type"]) == (
        "SECONDARY", primary["claim_id"], "MEDICAID")
    assert sec["total_charge_cents"] == primary["total_charge_cents"]
    other = sec["other_payer"]
    assert (other["paid_cents"], other["patient_responsibility_cents"]) == (
        primary["total_charge_cents"] - 5000, 2000)
    assert other["payer_claim_control_number"] == "PCN77" and other["payer_id"] == "COMM-ACME"
    assert {(a["group_code"], a["reason_code"], a["amount_cents"]) for a in other["adjustments"]} == {
        ("CO", "45", 3000), ("PR", "2", 2000)}
    [entry] = ledger["entries"]
    assert (entry["kind"], entry["insurance_delta_cents"], entry["patient_delta_cents"]) == (
        "TRANSFER_TO_SECONDARY", 2000, -2000)
    assert ledger["reference"] == sec["claim_id"] and ledger["payer_id"] == "MEDICAID"
    codec.encode(T.CLAIMS.value_schema, sec)
    codec.encode(T.LEDGER_ENTRIES.value_schema, ledger)


def test_a_redelivered_primary_remittance_re_emits_the_same_secondary_and_a_later_one_bills_nothing(coder):
    store = DictStore(CLAIM_STATE)
    primary = _primary(coder, store)
    first, _ = secondary.on_remittance(remit_for(primary), store)
    again_, outcome = secondary.on_remittance(remit_for(primary), store)
    assert outcome == "rebilled" and again_ == first
    reversal, _ = secondary.on_remittance(remit_for(primary, status="22", event="rem-2"), store)
    repaid, _ = secondary.on_remittance(remit_for(primary, event="rem-3"), store)
    assert reversal == [] and repaid == []


@pytest.mark.parametrize("case", ["no_secondary_payer", "no_pr", "reversal", "denied",
                                  "secondary_remittance", "self_pay_secondary"])
def test_nothing_else_bills_a_secondary(coder, case):
    store = DictStore(CLAIM_STATE)
    primary = _primary(coder, store, secondary_payer=None if case == "no_secondary_payer"
                       else "SELFPAY" if case == "self_pay_secondary" else "MEDICAID")
    remit = remit_for(primary, pr=0 if case == "no_pr" else 2000,
                      status={"reversal": "22", "denied": "4", "secondary_remittance": "2"}.get(case, "1"))
    records, outcome = secondary.on_remittance(remit, store)
    assert (records, outcome) == ([], "noted")


def test_a_primary_remittance_before_its_claim_waits_and_bills_the_secondary_when_it_is_built(coder):
    store = DictStore(CLAIM_STATE)
    claim = built(coder, secondary_payer="MEDICAID")
    remit = remit_for(claim)
    assert secondary.on_remittance(remit, store) == ([], "waiting")
    assert secondary.on_remittance(remit, store) == ([], "waiting")  # redelivered: kept once
    primary = versions.version_claim(claim, store)
    assert primary["version"] == 1 and primary["frequency_code"] == "1"
    [(_, sec), (_, ledger)] = secondary.release_waiting(primary["claim_id"], store)
    assert sec["claim_id"] == primary["claim_id"] + "-S"
    assert ledger["entries"][0]["insurance_delta_cents"] == 2000
    assert secondary.release_waiting(primary["claim_id"], store) == []
    assert store.get(primary["claim_id"])["payer_claim_control_number"] == "PCN77"


def test_a_remittance_before_a_claim_without_a_secondary_payer_bills_nothing_when_built(coder):
    store = DictStore(CLAIM_STATE)
    claim = built(coder)
    secondary.on_remittance(remit_for(claim), store)
    versions.version_claim(claim, store)
    assert secondary.release_waiting(claim["claim_id"], store) == []


def test_a_secondary_claims_own_remittance_bills_nothing_more(coder):
    store = DictStore(CLAIM_STATE)
    primary = _primary(coder, store)
    [(_, sec), _] = secondary.on_remittance(remit_for(primary), store)[0]
    records, outcome = secondary.on_remittance(remit_for(sec, event="rem-s", status="2"), store)
    assert (records, outcome) == ([], "unknown_claim")


# --- charge differences of corrected encounters -------------------------------------------------

def _amounts(entries):
    return sorted((e["event_id"].split(":", 1)[1], e["insurance_delta_cents"], e["patient_delta_cents"])
                  for e in entries)


def test_the_first_version_posts_its_charges_as_always_and_a_redelivery_the_same():
    store = DictStore(ENCOUNTER_CHARGES)
    enc = F.encounter(1)
    from processors.ledger.rules import entries_for_encounter
    assert corrections.entries_for_encounter_version(enc, store) == entries_for_encounter(enc)
    assert corrections.entries_for_encounter_version(enc, store) == entries_for_encounter(enc)


def test_a_corrected_encounter_posts_only_the_lines_that_changed():
    store = DictStore(ENCOUNTER_CHARGES)
    enc = F.encounter(1, charges=[
        {"line": 1, "charge_code": "CM100113", "units": 1, "unit_price_cents": 14500, "service_date": F.DOS},
        {"line": 2, "charge_code": "CM100303", "units": 1, "unit_price_cents": 2501, "service_date": F.DOS}])
    corrections.entries_for_encounter_version(enc, store)
    fixed = {**enc, "event_id": "enc-evt-1b", "charges": [
        enc["charges"][0], {**enc["charges"][1], "units": 2},
        {"line": 3, "charge_code": "CM100301", "units": 1, "unit_price_cents": 18500, "service_date": F.DOS}]}
    entries = corrections.entries_for_encounter_version(fixed, store)
    assert _amounts(entries) == [("charge:2", 5002, 0), ("charge:3", 18500, 0), ("uncharge:2", -2501, 0)]
    assert {e["kind"] for e in entries} == {"CHARGE"} and {e["reason"] for e in entries} == {"CORRECTED"}
    assert corrections.entries_for_encounter_version(fixed, store) == entries  # redelivered
    # the first version again, after the correction (its output may have been lost in a crash):
    # the same entries under the same ids, which the sink applies once
    from processors.ledger.rules import entries_for_encounter
    assert corrections.entries_for_encounter_version(enc, store) == entries_for_encounter(enc)


def test_a_cancelled_encounter_takes_every_charge_off_and_a_self_pay_one_from_the_patient():
    store = DictStore(ENCOUNTER_CHARGES)
    enc = F.encounter(2, plan_type="SELF_PAY", payer_id="SELFPAY")
    corrections.entries_for_encounter_version(enc, store)
    entries = corrections.entries_for_encounter_version(
        {**enc, "event_id": "enc-evt-2x", "cancelled": True}, store)
    assert _amounts(entries) == [("uncharge:1", 0, -14500)]
    assert corrections.entries_for_encounter_version(
        {**F.encounter(3), "cancelled": True}, DictStore(ENCOUNTER_CHARGES)) == []


# --- 837 ------------------------------------------------------------------------------------------

def _round_trip(claims, claim_type="PROFESSIONAL"):
    text = write_837(claims, claim_type, envelope(7), DIRECTORY)
    assert validate(text).errors == []
    assert read_back(text).claims == [carried(c) for c in claims]  # the 837-in reader's view
    return text


def test_replacement_and_void_837s_carry_the_frequency_and_ref_f8_and_pyx12_accepts_them(coder):
    store = DictStore(CLAIM_STATE)
    first = versions.version_claim(built(coder), store)
    secondary.on_remittance(remit_for(first, pr=0), store)
    v2 = versions.version_claim(again(built(coder, codes=("I10",)), "ev-9b"), store)
    v3 = versions.version_claim(again(built(coder, codes=("I10",)), "ev-9c"), store, cancelled=True)
    text = _round_trip([first, v2, v3])
    assert "CLM*CLM-E0000009*" in text and ":B:7*" in text and ":B:8*" in text
    assert text.count("REF*F8*PCN77~") == 2


def test_institutional_replacement_goes_out_valid(coder):
    store = DictStore(CLAIM_STATE)
    emergency = {"encounter_class": "EMERGENCY", "facility_id": "HOSP-01",
                 "procedures": [proc(1, "CM-ED4", "99284", 90000, modifiers=["25"], rev="0450")]}
    first = versions.version_claim(built(coder, **emergency), store)
    secondary.on_remittance(remit_for(first, pr=0), store)
    v2 = versions.version_claim(again(built(coder, codes=("I10",), **emergency), "ev-9b"), store)
    text = _round_trip([v2], "INSTITUTIONAL")
    assert ":A:7*" in text and "REF*F8*PCN77~" in text


@pytest.mark.parametrize("claim_type", ["PROFESSIONAL", "INSTITUTIONAL"])
def test_a_secondary_claim_goes_out_with_sbr01_s_and_the_primarys_adjudication_in_2320(coder, claim_type):
    store = DictStore(CLAIM_STATE)
    over = {} if claim_type == "PROFESSIONAL" else {
        "encounter_class": "EMERGENCY", "facility_id": "HOSP-01",
        "procedures": [proc(1, "CM-ED4", "99284", 90000, modifiers=["25"], rev="0450")]}
    primary = versions.version_claim(built(coder, secondary_payer="MEDICAID", **over), store)
    [(_, sec), _] = secondary.on_remittance(remit_for(primary), store)[0]
    text = _round_trip([sec], claim_type)
    ids = ["*".join(s.split("*")[:2]) for s in text.split("~")]
    assert "SBR*S" in ids and "SBR*P" in ids and "AMT*D" in ids and "NM1*PR" in ids
    assert "AMT*EAF*20~" in text and "CAS*PR*2*20~" in text and "CAS*CO*45*30~" in text


def test_a_date_adjudicated_comes_from_the_primary_remittance(coder):
    store = DictStore(CLAIM_STATE)
    primary = _primary(coder, store)
    [(_, sec), _] = secondary.on_remittance(remit_for(primary), store)[0]
    assert sec["other_payer"]["adjudicated_on"] == date(2026, 3, 2)


def test_on_the_835_of_a_secondary_claim_the_pipeline_billed_carc_23_posts_nothing():
    from processors.ledger.rules import entries_for_remittance

    line = {"line": 1, "procedure_code": "99213", "units": 1, "charge_cents": 14500,
            "paid_cents": 1600, "remarks": [],
            "adjustments": [F.adjustment("OA", "23", 12500), F.adjustment("PR", "2", 400)]}
    remit = {**F.remittance(lines=[line], status="2", payer_id="MEDICAID"),
             "claim_id": "CLM-E0000001-S"}
    entries = entries_for_remittance(remit)
    assert sorted((e["kind"], e["insurance_delta_cents"], e["patient_delta_cents"]) for e in entries) == [
        ("PAYER_PAYMENT", -1600, 0), ("TRANSFER_TO_PATIENT", -400, 400)]
    # the same 835 for a claim the pipeline did not bill as secondary closes the whole charge
    other = entries_for_remittance({**remit, "claim_id": "CLM-E0000001"})
    assert sum(e["insurance_delta_cents"] for e in other) == -14500
