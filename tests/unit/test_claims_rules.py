from datetime import UTC, date, datetime

from processors.chargemaster import load_charge_master
from processors.claims.rules import build_claim

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
D = date(2026, 3, 2)



def proc(line, charge_code="CM100113", code="99213", cents=14500, units=1, modifiers=(), rev="0510", day=D):
    return {"line": line, "charge_code": charge_code, "procedure_code": code,
            "modifiers": list(modifiers), "revenue_code": rev, "units": units,
            "charge_cents": cents, "service_date": day}


def coded(codes=("E11.9", "I10"), procedures=None, **over):
    rec = {
        "event_id": "ev-9:coded", "source_event_id": "ev-9", "source_emitted_at": T0,
        "encounter_id": "E9", "account_id": "A0000000424", "occurred_at": T0,
        "patient_age": 61, "patient_sex": "M", "payer_id": "COMM-ACME", "plan_type": "COMMERCIAL",
        "provider_npi": "1234567893", "facility_id": "FAC1", "encounter_class": "OFFICE",
        "service_start": D, "service_end": D,
        "diagnoses": [{"sequence": i, "code": c, "confidence": 1.0, "evidence": c}
                      for i, c in enumerate(codes, start=1)],
        "procedures": procedures if procedures is not None else [
            proc(1), proc(2, "CM100303", "36415", 5000, units=2, rev="0300")],
    }
    rec.update(over)
    return rec


def edits_of(claim):
    return [(e["edit"], e["line"]) for e in claim["edits"]]


def test_clean_claim_passes_untouched(coder):
    claim = build_claim(coded(), coder)
    assert claim["status"] == "CLEAN" and claim["edits"] == []
    assert claim["claim_id"] == "CLM-E9" and claim["event_id"] == "ev-9:claim"
    assert claim["claim_type"] == "PROFESSIONAL"
    assert claim["diagnosis_codes"] == ["E11.9", "I10"]
    assert [line["diagnosis_pointers"] for line in claim["lines"]] == [[1, 2], [1, 2]]
    assert claim["billing_provider_npi"] == "1234567893"


def test_totals_add_up_to_the_cent(coder):
    procs = [proc(1, cents=14501), proc(2, "CM100303", "36415", 2499, rev="0300"),
             proc(3, "CM100301", "80053", 18500, rev="0301")]
    assert build_claim(coded(procedures=procs), coder)["total_charge_cents"] == 35500


def test_facility_classes_build_institutional_claims(coder):
    for cls in ("INPATIENT", "OUTPATIENT", "EMERGENCY"):
        assert build_claim(coded(encounter_class=cls), coder)["claim_type"] == "INSTITUTIONAL"


def test_pointers_stop_at_four_with_the_principal_first(coder):
    claim = build_claim(coded(codes=("J18.9", "I10", "E11.9", "E78.5", "K21.9")), coder)
    assert claim["diagnosis_codes"][0] == "J18.9"
    assert claim["lines"][0]["diagnosis_pointers"] == [1, 2, 3, 4]


def test_missing_diagnosis_holds_the_claim(coder):
    claim = build_claim(coded(codes=()), coder)
    assert claim["status"] == "HELD" and edits_of(claim) == [("MISSING_DIAGNOSIS", None)]


def test_invalid_and_non_billable_codes_are_edits(coder):
    claim = build_claim(coded(codes=("X99.999", "E11")), coder)
    assert edits_of(claim) == [("INVALID_CODE", None), ("NOT_BILLABLE", None)]


def test_pregnancy_code_on_a_man_is_a_sex_and_age_conflict(coder):
    claim = build_claim(coded(codes=("O24.410",), patient_age=61, patient_sex="M"), coder)
    assert sorted(e for e, _ in edits_of(claim)) == ["AGE_CONFLICT", "SEX_CONFLICT"]


def test_newborn_code_after_birth_year_is_an_age_conflict(coder):
    assert edits_of(build_claim(coded(codes=("P59.9",), patient_age=3), coder)) == [("AGE_CONFLICT", None)]
    assert build_claim(coded(codes=("P59.9",), patient_age=0), coder)["status"] == "CLEAN"


def test_prostate_code_on_a_woman_is_a_sex_conflict(coder):
    claim = build_claim(coded(codes=("N40.0",), patient_sex="F"), coder)
    assert edits_of(claim) == [("SEX_CONFLICT", None)]


def test_sex_specific_charge_item_checks_the_patient(coder):
    cm = load_charge_master()
    procs = [proc(1), proc(2, "CM100406", "77067", 32000, rev="0403")]
    claim = build_claim(coded(procedures=procs, patient_sex="M"), coder, cm)
    assert edits_of(claim) == [("SEX_CONFLICT", 2)]
    assert build_claim(coded(procedures=procs, patient_sex="F"), coder, cm)["status"] == "CLEAN"


def test_duplicate_line_is_an_edit(coder):
    procs = [proc(1), proc(2), proc(3, day=date(2026, 3, 3)), proc(4, modifiers=("25",))]
    assert edits_of(build_claim(coded(procedures=procs), coder)) == [("DUPLICATE_LINE", 2)]


def test_zero_charge_line_is_an_edit(coder):
    procs = [proc(1), proc(2, "CM100303", "36415", 0, rev="0300")]
    claim = build_claim(coded(procedures=procs), coder)
    assert claim["status"] == "HELD" and edits_of(claim) == [("ZERO_CHARGE", 2)]
