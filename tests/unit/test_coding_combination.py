"""Combination and paired codes (ICD-10-CM guidelines I.C.4, I.C.9.a, I.C.10.a)."""
import re
from pathlib import Path

import pytest
import simple_icd_10_cm as icd

from processors.coding import combination, combination_data
from processors.coding.rules import code_encounter
from tests.unit.test_coding_rules import encounter

THRESHOLD = 0.80




def codes(s):
    return (s.code, *s.also)


def _targets() -> set[str]:
    """Every code the tables can produce, with each E1x, side, depth and stage filled in."""
    source = "".join(Path(m.__file__).read_text() for m in (combination, combination_data))
    building_blocks = {"E10", "E11", "E13", "I50.2", "I50.3", "I50.4", "N18", "Z79"}
    found = set(re.findall(r'"([A-Z]\d\d(?:\.[0-9A-Z]+)?)"', source)) - building_blocks
    for kind in ("E10", "E11", "E13"):
        found |= {c.replace("E1x", kind) for c in re.findall(r'"(E1x\.\d+)"', source)
                  if not (kind == "E10" and c.startswith("E1x.0"))}  # type 1 has no hyperosmolarity codes
        found |= {f"{kind}.{suffix}" for suffix in ("22", "621", "9")}
    found |= {f"L97.{site}{side}{depth}" for site in "45" for side in "12" for depth in "1234569"}
    found |= {f"I50.{family}{acuity}" for family in "234" for acuity in "0123"}
    return found


def test_every_target_code_is_a_billable_leaf():
    targets = _targets()
    assert len(targets) > 60
    assert sorted(c for c in targets if not (icd.is_valid_item(c) and icd.is_leaf(c))) == []


def test_type_2_diabetes_with_ckd_stage_3a_codes_e11_22_and_n18_31(coder):
    s = coder.code("DM2 with CKD 3a", 60, "M")
    assert codes(s) == ("E11.22", "N18.31") and s.confidence >= 0.9
    assert s.evidence == "dm2 -> diabetes type 2; ckd 3a -> chronic kidney disease stage 3a"


@pytest.mark.parametrize("text, expected", [
    ("T2DM w/ CKD stage IV", ("E11.22", "N18.4")),
    ("type 2 diabetes with chronic kidney disease stage 3b", ("E11.22", "N18.32")),
    ("type 1 DM with CKD stage 2", ("E10.22", "N18.2")),
    ("DM2 with ESRD on dialysis", ("E11.22", "N18.6", "Z99.2")),
    ("CKD stage 5 due to DM2, on hemodialysis", ("E11.22", "N18.6", "Z99.2")),
])
def test_diabetic_ckd_carries_its_stage(coder, text, expected):
    s = coder.code(text, 60, "M")
    assert codes(s) == expected and s.confidence >= 0.9


@pytest.mark.parametrize("text, expected", [
    ("DM2 with peripheral neuropathy", ("E11.42",)),
    ("type 2 diabetes with polyneuropathy", ("E11.42",)),
    ("diabetic neuropathy, type 2", ("E11.40",)),
    ("T2DM with retinopathy", ("E11.319",)),
    ("DM2 w/ hyperglycemia", ("E11.65",)),
    ("poorly controlled DM2", ("E11.65",)),
    ("DM2 with hypoglycemia", ("E11.649",)),
    ("DM2 with gastroparesis", ("E11.43", "K31.84")),
    ("T2DM with right foot ulcer", ("E11.621", "L97.519")),
    ("T2DM with left heel ulcer, fat layer exposed", ("E11.621", "L97.422")),
])
def test_diabetes_with_a_named_complication_uses_the_combination_code(coder, text, expected):
    s = coder.code(text, 60, "M")
    assert codes(s) == expected and s.confidence >= THRESHOLD


def test_diabetic_foot_ulcer_without_a_side_leaves_l97_out_and_goes_to_review(coder):
    s = coder.code("DM2 with diabetic foot ulcer", 60, "M")
    assert codes(s) == ("E11.621",) and s.confidence < THRESHOLD
    assert "side not stated" in s.reason


def test_insulin_use_adds_z79_4_and_oral_drugs_add_z79_84(coder):
    assert codes(coder.code("DM2 with CKD 3a on insulin", 60, "M")) == ("E11.22", "N18.31", "Z79.4")
    assert codes(coder.code("DM2 on metformin", 60, "M")) == ("E11.9", "Z79.84")
    assert codes(coder.code("NIDDM on oral hypoglycemics", 60, "M")) == ("E11.9", "Z79.84")


def test_insulin_dependent_is_not_type_1_unless_type_1_is_stated(coder):
    assert codes(coder.code("IDDM", 60, "M")) == ("E11.9", "Z79.4")
    assert codes(coder.code("insulin dependent diabetes with neuropathy", 60, "M")) == ("E11.40", "Z79.4")
    # Insulin is part of type 1 care: no long-term insulin code.
    assert codes(coder.code("type 1 DM on insulin", 30, "F")) == ("E10.9",)


def test_diabetes_without_a_complication_is_e11_9(coder):
    assert codes(coder.code("DM2", 60, "M")) == ("E11.9",)
    assert codes(coder.code("DM2 w/o complications", 60, "M")) == ("E11.9",)
    assert codes(coder.code("DM2 without CKD", 60, "M")) == ("E11.9",)


def test_hypertension_with_heart_failure_presumes_the_link(coder):
    s = coder.code("HTN with CHF", 70, "F")
    assert codes(s) == ("I11.0", "I50.9") and s.confidence >= 0.9
    assert "presume" in s.evidence


@pytest.mark.parametrize("text, expected", [
    ("HTN, HFrEF", ("I11.0", "I50.20")),
    ("hypertension with chronic diastolic heart failure", ("I11.0", "I50.32")),
    ("HTN w/ acute on chronic HFpEF", ("I11.0", "I50.33")),
    ("HTN and acute systolic CHF", ("I11.0", "I50.21")),
])
def test_hypertension_with_a_specific_heart_failure_codes_its_type(coder, text, expected):
    assert codes(coder.code(text, 70, "F")) == expected


@pytest.mark.parametrize("text, expected", [
    ("HTN with CKD stage 3a", ("I12.9", "N18.31")),
    ("hypertensive CKD stage 4", ("I12.9", "N18.4")),
    ("HTN, ESRD", ("I12.0", "N18.6")),
    ("HTN with CKD 3b and CHF", ("I13.0", "I50.9", "N18.32")),
    ("HTN with chronic systolic heart failure and ESRD", ("I13.2", "I50.22", "N18.6")),
])
def test_hypertension_with_ckd_uses_the_hypertensive_ckd_codes(coder, text, expected):
    s = coder.code(text, 70, "F")
    assert codes(s) == expected and s.confidence >= 0.9


def test_missing_ckd_stage_goes_to_review(coder):
    for text, expected in (("HTN with CKD", ("I12.9", "N18.9")), ("DM2 with CKD", ("E11.22", "N18.9"))):
        s = coder.code(text, 70, "F")
        assert codes(s) == expected and s.confidence < THRESHOLD
        assert "stage not stated" in s.reason


def test_diabetes_and_hypertension_with_ckd_code_both_and_the_stage_once(coder):
    s = coder.code("CKD 3a due to DM2 and HTN", 70, "F")
    assert codes(s) == ("E11.22", "I12.9", "N18.31")


def test_copd_exacerbation_and_infection_are_combination_codes(coder):
    assert codes(coder.code("COPD w/ acute exacerbation", 70, "F")) == ("J44.1",)
    assert codes(coder.code("AECOPD", 70, "F")) == ("J44.1",)
    assert codes(coder.code("COPD with pneumonia", 70, "F")) == ("J44.0", "J18.9")
    assert codes(coder.code("COPD with acute bronchitis", 70, "F")) == ("J44.0", "J20.9")
    assert codes(coder.code("COPD w/ acute lower resp infection", 70, "F")) == ("J44.0",)


def test_statements_that_are_not_combinations_are_left_to_the_index(coder):
    for text in ("HTN", "COPD", "CHF exac", "CKD stage 3a", "pulmonary hypertension with CHF",
                 "gestational diabetes, diet controlled"):
        assert combination.plan(text) is None, text


def test_negated_history_and_uncertain_statements_are_not_combined(coder):
    assert coder.code("no CKD", 60, "M").code is None
    assert not coder.code("h/o DM2 with CKD 3a", 60, "M").code
    assert coder.code("r/o COPD exacerbation", 60, "M").confidence < THRESHOLD


def test_combination_codes_are_not_an_excludes1_pair(coder):
    for text in ("DM2 with CKD 3a", "HTN with CKD 3b and CHF", "COPD with pneumonia and exacerbation",
                 "DM2 with gastroparesis", "T2DM with right foot ulcer on insulin"):
        assert coder.excludes1_conflicts(codes(coder.code(text, 60, "M"))) == [], text


def test_code_encounter_puts_both_codes_on_the_coded_encounter(coder, cm):
    kind, out = code_encounter(encounter([("DM2 with CKD 3a", None), ("HTN w/ CHF", None)]), cm, coder,
                               THRESHOLD)
    assert kind == "coded", out.get("reasons")
    assert [d["code"] for d in out["diagnoses"]] == ["E11.22", "N18.31", "I11.0", "I50.9"]
    assert out["diagnoses"][1]["evidence"] == out["diagnoses"][0]["evidence"]


def test_code_encounter_sends_a_missing_stage_to_review_with_the_reason(coder, cm):
    kind, out = code_encounter(encounter([("HTN with CKD", None)]), cm, coder, THRESHOLD)
    assert kind == "review"
    assert "chronic kidney disease stage not stated" in out["reasons"][0]
