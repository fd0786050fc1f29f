"""E/M levels of office and ED visits: the level tables, time against MDM, and what coding does when
the billed level and the documentation disagree."""
from __future__ import annotations

import io

import fastavro
import pytest

from processors.coding.em import review_reasons, supported_level
from processors.coding.rules import code_encounter, validate_encounter
from schemas import codec
from tests import factories as F


def em(status=None, mdm=None, minutes=None) -> dict:
    return {"patient_status": status, "mdm_level": mdm, "total_minutes": minutes}


def level(cls: str, doc: dict | None) -> str | None:
    found = supported_level(cls, doc)
    assert found is not None
    return found.code


@pytest.mark.parametrize("mdm, new, established", [
    ("STRAIGHTFORWARD", "99202", "99212"), ("LOW", "99203", "99213"),
    ("MODERATE", "99204", "99214"), ("HIGH", "99205", "99215")])
def test_office_level_by_mdm(mdm, new, established):
    assert level("OFFICE", em("NEW", mdm)) == new
    assert level("OFFICE", em("ESTABLISHED", mdm)) == established


@pytest.mark.parametrize("status, minutes, code", [
    ("NEW", 14, None), ("NEW", 15, "99202"), ("NEW", 29, "99202"), ("NEW", 30, "99203"),
    ("NEW", 45, "99204"), ("NEW", 59, "99204"), ("NEW", 60, "99205"), ("NEW", 180, "99205"),
    ("ESTABLISHED", 9, None), ("ESTABLISHED", 10, "99212"), ("ESTABLISHED", 20, "99213"),
    ("ESTABLISHED", 30, "99214"), ("ESTABLISHED", 39, "99214"), ("ESTABLISHED", 40, "99215")])
def test_office_level_by_total_time_uses_the_2021_thresholds(status, minutes, code):
    assert level("OFFICE", em(status, minutes=minutes)) == code


def test_office_level_is_the_higher_of_mdm_and_time():
    found = supported_level("OFFICE", em("ESTABLISHED", "MODERATE", 25))
    assert found is not None
    assert found.code == "99214"
    assert found.explanation == "MDM moderate supports 99214; 25 min supports 99213"
    assert level("OFFICE", em("ESTABLISHED", "LOW", 42)) == "99215"
    assert level("OFFICE", em("NEW", "HIGH", 5)) == "99205"


def test_99211_is_never_selected_by_mdm_or_time():
    found = supported_level("OFFICE", em("ESTABLISHED", minutes=5))
    assert found is not None and found.code is None
    assert "5 min supports no level (under 10)" in found.explanation


def test_ed_level_is_by_mdm_only_and_time_does_not_count():
    assert [level("EMERGENCY", em(mdm=m)) for m in ("STRAIGHTFORWARD", "LOW", "MODERATE", "HIGH")] \
        == ["99282", "99283", "99284", "99285"]
    found = supported_level("EMERGENCY", em(mdm="LOW", minutes=240))
    assert found is not None and found.code == "99283"
    assert "time does not count" in found.explanation
    assert level("EMERGENCY", em(minutes=240)) is None


def test_nothing_documented_means_no_check():
    assert supported_level("OFFICE", None) is None
    assert supported_level("OFFICE", em()) is None
    assert supported_level("OUTPATIENT", em(mdm="HIGH")) is None
    assert supported_level("INPATIENT", em(mdm="HIGH", minutes=60)) is None
    assert review_reasons("OFFICE", None, [(1, "99215")]) == []


def test_an_office_visit_without_new_or_established_supports_no_level():
    found = supported_level("OFFICE", em(mdm="HIGH"))
    assert found is not None and found.code is None
    assert "new or established" in found.explanation


# Through code_encounter: charge codes CM100102..5 bill 99202..5, CM100112..5 99212..5,
# CM100201..5 99281..5.
DX = [{"sequence": 1, "text": "essential hypertension", "code": "I10"}]


def line(n: int, charge_code: str, cents: int = 10_000) -> dict:
    return {"line": n, "charge_code": charge_code, "units": 1, "unit_price_cents": cents,
            "service_date": F.DOS, "source_code": None}


def visit(charges, doc, cls="OFFICE") -> dict:
    return F.encounter(diagnoses=DX, charges=charges, encounter_class=cls, em=doc)


def test_a_billed_level_the_documentation_supports_is_coded(coder, cm):
    enc = visit([line(1, "CM100114"), line(2, "CM100303")], em("ESTABLISHED", "MODERATE", 25))
    kind, coded = code_encounter(enc, cm, coder, 0.8)
    assert kind == "coded"
    assert [p["procedure_code"] for p in coded["procedures"]] == ["99214", "36415"]
    ed = visit([line(1, "CM100204"), line(2, "CM100302")], em(mdm="MODERATE", minutes=15), "EMERGENCY")
    assert code_encounter(ed, cm, coder, 0.8)[0] == "coded"


def test_an_over_coded_visit_goes_to_review_with_a_reason_a_coder_can_act_on(coder, cm):
    enc = visit([line(1, "CM100115", 29_500), line(2, "CM100303", 2500)], em("ESTABLISHED", "LOW", 22))
    kind, review = code_encounter(enc, cm, coder, 0.8)
    assert kind == "review"
    assert review["reasons"] == [("E/M: line 1 bills 99215 (over-coded); documentation supports "
                                  "99213 (MDM low supports 99213; 22 min supports 99213)")]
    assert review["total_charge_cents"] == 32_000  # money is untouched


def test_an_under_coded_visit_goes_to_review(coder, cm):
    kind, review = code_encounter(visit([line(1, "CM100202")], em(mdm="HIGH"), "EMERGENCY"),
                                  cm, coder, 0.8)
    assert kind == "review"
    assert review["reasons"] == [("E/M: line 1 bills 99282 (under-coded); documentation supports "
                                  "99285 (MDM high supports 99285)")]


def test_a_new_patient_billed_as_established_goes_to_review(coder, cm):
    kind, review = code_encounter(visit([line(1, "CM100113")], em("NEW", "LOW")), cm, coder, 0.8)
    assert kind == "review" and "bills 99213; documentation supports 99203" in review["reasons"][0]


def test_documentation_without_a_billed_em_line_goes_to_review(coder, cm):
    kind, review = code_encounter(visit([line(1, "CM100708")], em("ESTABLISHED", "LOW")),
                                  cm, coder, 0.8)
    assert kind == "review"
    assert review["reasons"] == [("E/M: no E/M line is billed; documentation supports 99213 "
                                  "(MDM low supports 99213)")]


def test_documentation_that_supports_no_level_goes_to_review(coder, cm):
    kind, review = code_encounter(visit([line(1, "CM100112")], em("ESTABLISHED", minutes=6)),
                                  cm, coder, 0.8)
    assert kind == "review"
    assert review["reasons"][0].startswith("E/M: line 1 bills 99212; documentation supports no E/M "
                                           "level (6 min supports no level (under 10))")
    kind, review = code_encounter(visit([line(1, "CM100204")], em(minutes=90), "EMERGENCY"),
                                  cm, coder, 0.8)
    assert kind == "review" and "MDM not documented" in review["reasons"][0]


def test_every_mismatched_em_line_is_named_and_a_repeated_matching_line_is_left_to_the_scrubber(
        coder, cm):
    twice = visit([line(1, "CM100113"), line(2, "CM100113")], em("ESTABLISHED", "LOW"))
    assert code_encounter(twice, cm, coder, 0.8)[0] == "coded"
    two = visit([line(1, "CM100113"), line(2, "CM100115")], em("ESTABLISHED", "LOW"))
    kind, review = code_encounter(two, cm, coder, 0.8)
    assert kind == "review" and len(review["reasons"]) == 1 and "line 2 bills 99215" in review["reasons"][0]


def test_visits_without_em_fields_are_coded_as_before(coder, cm):
    enc = F.encounter(diagnoses=DX, charges=[line(1, "CM100115")])
    del enc["em"]  # a record decoded before the field existed, or built by hand
    assert code_encounter(enc, cm, coder, 0.8)[0] == "coded"
    assert code_encounter(visit([line(1, "CM100115")], None), cm, coder, 0.8)[0] == "coded"


@pytest.mark.parametrize("cls, doc, problem", [
    ("EMERGENCY", em("NEW", "LOW"), "patient status NEW applies to office visits only"),
    ("INPATIENT", em("ESTABLISHED"), "patient status ESTABLISHED applies to office visits only"),
    ("OFFICE", em("NEW", minutes=-5), "E/M total minutes -5 is outside 0..1440"),
    ("EMERGENCY", em(mdm="LOW", minutes=2000), "E/M total minutes 2000 is outside 0..1440")])
def test_impossible_em_documentation_makes_the_encounter_invalid(coder, cm, cls, doc, problem):
    charges = [line(1, "CM100204" if cls == "EMERGENCY" else "CM100113")]
    if cls == "INPATIENT":
        charges = [line(1, "CM100601")]
    enc = visit(charges, doc, cls)
    problems = validate_encounter(enc, cm, coder)
    assert any(problem in p for p in problems), problems
    with pytest.raises(ValueError, match="E/M"):
        code_encounter(enc, cm, coder, 0.8)


def test_em_fields_round_trip_and_records_written_before_them_still_decode():
    enc = visit([line(1, "CM100114")], em("ESTABLISHED", "MODERATE", 25)) \
        | {"procedures_pcs": [], "discharge_status": None, "discharged_at": None,
           "secondary_payer_id": None, "cancelled": None}
    assert codec.decode(codec.encode("EncounterReceived", enc)) == ("EncounterReceived", enc)
    schema = codec.schema_json("EncounterReceived")
    old = dict(schema, fields=[f for f in schema["fields"] if f["name"] != "em"])
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, fastavro.parse_schema(old), enc)
    buf.seek(0)
    read = fastavro.schemaless_reader(buf, fastavro.parse_schema(old), codec.parsed("EncounterReceived"))
    assert read == enc | {"em": None}
