from datetime import date

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
