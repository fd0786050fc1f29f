from datetime import UTC, date, datetime

from processors.coding.rules import code_encounter, validate_encounter
from schemas.accounts import make_account_id

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)




def encounter(diagnoses, charges=None, **over):
    enc = {
        "event_id": "enc-ev-1", "encounter_id": "E1", "account_id": make_account_id(42),
        "occurred_at": T0, "emitted_at": T0, "patient_age": 58, "patient_sex": "F",
        "payer_id": "MEDICARE", "plan_type": "MEDICARE", "provider_npi": "1234567893",
        "facility_id": "FAC1", "encounter_class": "OFFICE",
        "service_start": date(2026, 3, 2), "service_end": date(2026, 3, 2),
        "diagnoses": [{"sequence": i, "text": t, "code": c}
                      for i, (t, c) in enumerate(diagnoses, start=1)],
        "charges": charges if charges is not None else [
            {"line": 1, "charge_code": "CM100113", "units": 1, "unit_price_cents": 14500,
             "service_date": date(2026, 3, 2)},
            {"line": 2, "charge_code": "CM100303", "units": 2, "unit_price_cents": 2500,
             "service_date": date(2026, 3, 2)}],
    }
    enc.update(over)
    return enc


def test_abbreviations_are_expanded(coder):
    assert coder.code("DM2 w/o complications", 60, "M").code == "E11.9"
    assert coder.code("HTN", 60, "M").code == "I10"
    assert coder.code("acute exacerbation of COPD", 70, "F").code == "J44.1"


def test_without_clause_does_not_match_the_with_code(coder):
    assert coder.code("GERD w/ esophagitis, without bleeding", 40, "F").code == "K21.00"
    assert coder.code("GERD", 40, "F").code == "K21.9"


def test_laterality_picks_the_side(coder):
    assert coder.code("L knee OA", 70, "F").code == "M17.12"
    assert coder.code("primary OA of R knee", 70, "F").code == "M17.11"
    assert coder.code("sciatica, L side", 50, "M").code == "M54.32"


def test_statement_without_detail_gets_the_unspecified_leaf(coder):
    assert coder.code("hyperlipidemia", 60, "M").code == "E78.5"
    assert coder.code("afib", 60, "M").code == "I48.91"


def test_negated_statement_gets_no_code(coder):
    for text in ("no evidence of pneumonia", "denies chest pain", "negative for UTI"):
        s = coder.code(text, 40, "F")
        assert s.code is None and s.confidence == 0.0 and s.reason.startswith("negated")


def test_suspected_condition_is_not_auto_coded(coder):
    s = coder.code("r/o pneumonia", 40, "F")
    assert s.code is None and s.confidence < 0.8 and s.reason.startswith("uncertain") and "J18.9" in s.reason


def test_patient_sex_steers_the_code(coder):
    assert coder.code("breast cancer", 50, "F").code == "C50.919"
    assert coder.code("breast cancer", 50, "M").code == "C50.929"


def test_pregnancy_codes_need_pregnancy_words(coder):
    assert coder.code("UTI", 30, "F").code == "N39.0"


def test_repeated_statements_come_from_the_cache(coder):
    first = coder.code("Essential hypertension", 60, "M")
    again = coder.code("hypertension,  ESSENTIAL", 60, "M")
    assert first.code == again.code == "I10"
    assert coder._ranked.cache_info().hits >= 1


def test_valid_encounter_has_no_problems(coder, cm):
    assert validate_encounter(encounter([("HTN", None)]), cm, coder) == []


def test_invalid_given_code_is_rejected_by_validate_encounter(coder, cm):
    problems = validate_encounter(encounter([("HTN", "X99.999")]), cm, coder)
    assert problems == ["dx 1: code 'X99.999' is not an ICD-10-CM code"]


def test_validate_encounter_names_every_bad_field(coder, cm):
    bad = encounter([("HTN", None)], account_id="A0000000421\x07", patient_age=130,
                    service_end=date(2026, 3, 1), charges=[
                        {"line": 1, "charge_code": "CM999", "units": 0, "unit_price_cents": -5,
                         "service_date": date(2026, 3, 2)}])
    problems = validate_encounter(bad, cm, coder)
    assert "charge line 1: charge code CM999 is not in the charge master" in problems
    assert "charge line 1: units 0 must be positive" in problems
    assert "charge line 1: unit price -5 cents is negative" in problems
    assert "account id has a control or non-printable character" in problems
    assert any("age 130" in p for p in problems)
    assert any("before service_start" in p for p in problems)
    assert validate_encounter(encounter([], charges=[]), cm, coder) == ["the encounter has no charge lines"]


def test_given_code_is_accepted_with_or_without_the_dot(coder, cm):
    kind, out = code_encounter(encounter([("diabetes", "E119"), ("whatever", "I10")]), cm, coder, 0.8)
    assert kind == "coded"
    assert [(d["code"], d["confidence"]) for d in out["diagnoses"]] == [("E11.9", 1.0), ("I10", 1.0)]


def test_coded_encounter_carries_procedures_and_ids(coder, cm):
    kind, out = code_encounter(encounter([("T2DM with hyperglycemia", None), ("HTN", None)]), cm, coder, 0.8)
    assert kind == "coded"
    assert out["event_id"] == "enc-ev-1:coded" and out["source_event_id"] == "enc-ev-1"
    assert out["source_emitted_at"] == T0
    assert [d["code"] for d in out["diagnoses"]] == ["E11.65", "I10"]
    assert out["procedures"][1] == {
        "line": 2, "charge_code": "CM100303", "procedure_code": "36415", "modifiers": [],
        "revenue_code": "0300", "units": 2, "charge_cents": 5000, "service_date": date(2026, 3, 2)}


def test_vague_statement_goes_to_review(coder, cm):
    kind, out = code_encounter(encounter([("HTN", None), ("pt feels unwell", None)]), cm, coder, 0.8)
    assert kind == "review"
    assert out["event_id"] == "enc-ev-1:review"
    assert out["reasons"] == ["dx 2: 'pt feels unwell' too vague to code (best 0.000 < 0.80)"]
    assert out["total_charge_cents"] == 14500 + 5000
    assert [s["code"] for s in out["suggestions"]] == ["I10", None]


def test_negated_statement_is_dropped_from_the_coded_encounter(coder, cm):
    kind, out = code_encounter(encounter([("no evidence of pneumonia", None), ("HTN", None)]), cm, coder, 0.8)
    assert kind == "coded"
    assert [(d["sequence"], d["code"]) for d in out["diagnoses"]] == [(1, "I10")]


def test_encounter_without_a_codable_diagnosis_goes_to_review(coder, cm):
    kind, out = code_encounter(encounter([("denies chest pain", None)]), cm, coder, 0.8)
    assert kind == "review" and out["reasons"] == ["no codable diagnosis statement"]


def test_non_billable_given_code_goes_to_review(coder, cm):
    kind, out = code_encounter(encounter([("diabetes", "E11")]), cm, coder, 0.8)
    assert kind == "review" and "not billable" in out["reasons"][0]


def test_dotted_formats_codes_as_the_code_set_does(coder):
    import random

    import simple_icd_10_cm as icd

    codes = [c for c in icd.get_all_codes(True) if not icd.is_chapter_or_block(c)]
    for code in random.Random(3).sample(codes, 60):
        expected = icd.add_dot(icd.remove_dot(code))
        assert coder.dotted(code) == coder.dotted(icd.remove_dot(code)) == expected


def test_code_first_note_sends_a_wrongly_sequenced_pair_to_review(coder, cm):
    from tests import factories as F

    # Diabetic CKD: the tabular list says to code the diabetes (E11.22) before the CKD stage.
    enc = F.encounter(5, diagnoses=[{"sequence": 1, "text": "CKD stage 3a", "code": "N18.31"},
                                    {"sequence": 2, "text": "DM2 with diabetic CKD", "code": "E11.22"}])
    kind, rec = code_encounter(enc, cm, coder, 0.8)
    assert kind == "review"
    assert any("N18.31: code first E11.22" in r for r in rec["reasons"])


def test_conditional_code_first_notes_do_not_hold_an_ordinary_encounter(coder, cm):
    from tests import factories as F

    enc = F.encounter(6, diagnoses=[{"sequence": 1, "text": "pneumonia", "code": "J18.9"},
                                    {"sequence": 2, "text": "obesity", "code": "E66.9"}])
    assert code_encounter(enc, cm, coder, 0.8)[0] == "coded"


def test_excludes1_pair_goes_to_review(coder, cm):
    from tests import factories as F

    # Type 1 and type 2 diabetes exclude each other.
    enc = F.encounter(7, diagnoses=[{"sequence": 1, "text": "DM2", "code": "E11.9"},
                                    {"sequence": 2, "text": "DM1", "code": "E10.9"}])
    kind, rec = code_encounter(enc, cm, coder, 0.8)
    assert kind == "review" and any("Excludes1" in r for r in rec["reasons"])
