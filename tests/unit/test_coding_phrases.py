"""Clinician shorthand and phrasings written for these tests (never taken from the dev set), with
the code the ICD-10-CM alphabetic index and guidelines give."""
import pytest
import simple_icd_10_cm as icd

THRESHOLD = 0.80


def codes(s):
    return (s.code, *s.also)


# (statement, age, sex, codes): each coded automatically (confidence >= THRESHOLD)
AUTO = [
    ("CAP", 60, "F", ("J18.9",)), ("community acquired pneumonia", 60, "F", ("J18.9",)),
    ("RLL pneumonia", 60, "F", ("J18.9",)), ("AS", 80, "M", ("I35.0",)),
    ("severe aortic stenosis", 80, "M", ("I35.0",)), ("mitral regurgitation", 70, "F", ("I34.0",)),
    ("CKD IIIa", 70, "F", ("N18.31",)), ("CKD 3b", 70, "F", ("N18.32",)),
    ("HFmrEF", 70, "F", ("I50.20",)), ("HFpEF", 70, "F", ("I50.30",)),
    ("acute on chronic HFrEF", 70, "F", ("I50.23",)), ("CP", 50, "M", ("R07.9",)),
    ("AOM", 3, "M", ("H66.90",)), ("L AOM", 3, "M", ("H66.92",)), ("A-fib", 70, "M", ("I48.91",)),
    ("AF with RVR", 70, "M", ("I48.91",)), ("afib w/ RVR", 70, "M", ("I48.91",)),
    ("hypoK", 60, "F", ("E87.6",)), ("COVID", 40, "F", ("U07.1",)), ("MDD", 40, "F", ("F32.9",)),
    ("DVT", 50, "F", ("I82.409",)), ("LLE DVT", 50, "F", ("I82.402",)), ("croup", 2, "M", ("J05.0",)),
    ("well child check", 4, "M", ("Z00.129",)), ("abdominal pain", 30, "F", ("R10.9",)),
    ("RLQ abd pain", 30, "F", ("R10.31",)), ("tonsillitis", 8, "F", ("J03.90",)),
    ("acute hypoxic respiratory failure", 70, "M", ("J96.01",)),
    ("DKA", 20, "M", ("E11.10",)), ("T1DM with DKA", 20, "M", ("E10.10",)),
    ("type 2 DM with HHS", 70, "M", ("E11.00",)),
    ("DM2 w/ proliferative retinopathy w/ macular edema, R eye", 60, "F", ("E11.3511",)),
    ("T2DM with mild NPDR OU", 60, "F", ("E11.3293",)),
    ("type 1 DM with moderate nonproliferative diabetic retinopathy without macular edema, left eye",
     30, "F", ("E10.3392",)),
    ("DM2 with DME", 60, "F", ("E11.311",)),
]


@pytest.mark.parametrize("text, age, sex, expected", AUTO)
def test_shorthand_is_coded_automatically(coder, text, age, sex, expected):
    s = coder.code(text, age, sex)
    assert codes(s) == expected and s.confidence >= THRESHOLD, (s.code, s.also, s.confidence, s.reason)


def test_every_expected_code_is_a_billable_leaf():
    assert [c for *_, expected in AUTO for c in expected if not (icd.is_valid_item(c) and icd.is_leaf(c))] == []


# (statement, age, sex, code): a detail is missing or the wording is loose; the code is still right
LOOSE = [
    ("T2DM with mild NPDR", 60, "F", "E11.3299"),  # eye not stated
    ("c diff colitis", 40, "F", "A04.72"),
]


@pytest.mark.parametrize("text, age, sex, code", LOOSE)
def test_loosely_worded_statements_get_the_right_code(coder, text, age, sex, code):
    s = coder.code(text, age, sex)
    assert s.code == code


def test_type_1_diabetes_with_hyperosmolarity_is_not_given_a_code_that_does_not_exist(coder):
    s = coder.code("T1DM with HHS", 30, "F")
    assert s.code is None or icd.is_valid_item(s.code)
