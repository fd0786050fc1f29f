"""FHIR Encounter -> VisitEvent: every field, the status -> kind and class tables, age from the
birth date, accounts, payers."""
from __future__ import annotations

import copy
from datetime import date

import pytest

from producers.fhir.adapter import convert
from producers.fhir.read import read_bytes
from schemas import codec
from tests.factories import DOS, encounter
from tests.support import fhir_samples as samples


def run(resources, name="visit.json"):
    data = samples.dumps(samples.bundle(resources)).encode()
    result = convert(read_bytes(data, name), now_ms=0)
    return [codec.decode_for(r.topic, r.value) | {"_topic": r.topic.name} for r in result.records], result


def resources(**changes):
    enc = encounter(1, **changes)
    return samples.encounter_resources(enc), enc


def by_type(res, kind):
    return next(r for r in res if r["resourceType"] == kind)


def test_encounter_maps_every_field():
    enc = encounter(3, encounter_class="INPATIENT", age=71, sex="M", payer_id="MEDICARE",
                    plan_type="MEDICARE",
                    diagnoses=[{"sequence": 1, "text": "sepsis due to E coli", "code": "A41.51"},
                               {"sequence": 2, "text": "type 2 diabetes", "code": None}])
    enc.update(service_end=date(2026, 3, 6), discharge_status="03",
               procedures_pcs=[{"sequence": 1, "code": "30233N1"}])
    events, result = run(samples.encounter_resources(enc))
    assert result.ok and [e["kind"] for e in events] == ["DISCHARGE", "CHARGES"]
    visit = events[0]
    assert visit["_topic"] == "visit-events" and visit["source"] == "fhir Encounter"
    assert visit["event_id"] == "fhir:Encounter/E0000003/_history/1"
    assert (visit["visit_number"], visit["account_id"]) == ("E0000003", enc["account_id"])
    assert (visit["encounter_class"], visit["patient_age"], visit["patient_sex"]) == ("INPATIENT", 71, "M")
    assert (visit["payer_id"], visit["plan_type"]) == ("MEDICARE", "MEDICARE")
    assert (visit["provider_npi"], visit["facility_id"]) == ("1234567893", "FAC01")
    assert (visit["service_start"], visit["service_end"]) == (DOS, date(2026, 3, 6))
    assert visit["discharge_status"] == "03"
    assert visit["diagnoses"] == enc["diagnoses"]
    assert visit["procedures_pcs"] == [{"sequence": 1, "code": "30233N1"}]
    assert visit["charges"] == []
    assert "birth" not in str(visit)


@pytest.mark.parametrize(("status", "cls", "kind"), [
    ("planned", "IMP", "ADMIT"), ("arrived", "IMP", "ADMIT"), ("in-progress", "IMP", "ADMIT"),
    ("triaged", "EMER", "REGISTER"), ("arrived", "AMB", "REGISTER"), ("in-progress", "EMER", "REGISTER"),
    ("planned", "AMB", "REGISTER"), ("onleave", "IMP", "UPDATE"), ("unknown", "AMB", "UPDATE"),
    ("finished", "AMB", "DISCHARGE"), ("finished", "IMP", "DISCHARGE"),
    ("cancelled", "IMP", "CANCEL"), ("entered-in-error", "AMB", "CANCEL"),
])
def test_status_and_class_give_the_kind(status, cls, kind):
    res, _ = resources()
    enc = by_type(res, "Encounter")
    enc["status"], enc["class"]["code"] = status, cls
    events, result = run(res)
    assert result.ok and events[0]["kind"] == kind


@pytest.mark.parametrize(("code", "pos", "cls"), [
    ("IMP", None, "INPATIENT"), ("ACUTE", None, "INPATIENT"), ("EMER", "23", "EMERGENCY"),
    ("AMB", "11", "OFFICE"), ("AMB", "22", "OUTPATIENT"), ("AMB", None, "OUTPATIENT"),
    ("OBSENC", None, "OUTPATIENT"), ("VR", None, "OFFICE"),
])
def test_encounter_class_table(code, pos, cls):
    res, _ = resources()
    enc = by_type(res, "Encounter")
    enc["class"]["code"] = code
    enc["type"] = [samples._concept(samples.PLACE_OF_SERVICE[0], pos)] if pos else []
    events, _ = run(res)
    assert events[0]["encounter_class"] == cls


def test_unknown_class_or_status_is_a_dead_letter():
    res, _ = resources()
    by_type(res, "Encounter")["class"]["code"] = "XYZ"
    events, result = run(res)
    assert [e["_topic"] for e in events] == ["visit-events", "dead-letters"]
    assert "Encounter.class" in result.problems[0] and "entry 3 (Encounter/E0000001)" in result.problems[0]


@pytest.mark.parametrize(("birth", "age"), [("1970-03-02", 56), ("1970-03-03", 55), ("1970-03-01", 56)])
def test_age_is_whole_years_on_the_first_day_of_service(birth, age):
    res, _ = resources()
    by_type(res, "Patient")["birthDate"] = birth
    events, _ = run(res)
    assert events[0]["patient_age"] == age


def test_account_from_a_logical_reference_or_an_account_number_identifier():
    res, enc = resources()
    res = [r for r in res if r["resourceType"] != "Account"]
    by_type(res, "Encounter")["account"] = [{"identifier": {"value": enc["account_id"]}}]
    events, result = run(res)
    assert result.ok and events[0]["account_id"] == enc["account_id"]
    del by_type(res, "Encounter")["account"]
    by_type(res, "Encounter")["identifier"].append(
        {"type": samples._concept(samples.IDENTIFIER_TYPE, "AN"), "value": enc["account_id"]})
    events, result = run(res)
    assert events[0]["account_id"] == enc["account_id"] and events[0]["visit_number"] == "E0000001"


def test_an_overlong_account_number_is_a_dead_letter_without_the_number():
    res, _ = resources()
    bad = "7" * 51
    by_type(res, "Account")["identifier"][0]["value"] = bad
    events, result = run(res)
    assert [e["_topic"] for e in events] == ["dead-letters", "dead-letters"]  # the Encounter and its Claim
    assert "longer than 50" in result.problems[0] and bad not in " ".join(result.problems)


def test_self_pay_and_plan_types():
    res, _ = resources(payer_id="SELFPAY", plan_type="SELF_PAY")
    assert run(res)[0][0]["payer_id"] == "SELFPAY"
    res, _ = resources(payer_id="STATE-PLAN-9", plan_type="MEDICAID")
    assert run(res)[0][0]["plan_type"] == "MEDICAID"  # from the payment typology code
    del by_type(res, "Coverage")["type"]
    events, result = run(res)  # issue 9, root cause 9: an unknown plan defaults as HL7's IN1-15 does
    assert result.ok and (events[0]["payer_id"], events[0]["plan_type"]) == ("STATE-PLAN-9", "COMMERCIAL")
    res, _ = resources(payer_id="COMM-BLUE")
    del by_type(res, "Coverage")["type"]
    assert run(res)[0][0]["plan_type"] == "COMMERCIAL"  # from the payer table


def test_hl7_discharge_disposition_becomes_the_ub04_status():
    res, _ = resources(encounter_class="INPATIENT")
    by_type(res, "Encounter")["hospitalization"] = {"dischargeDisposition": samples._concept(
        "http://terminology.hl7.org/CodeSystem/discharge-disposition", "snf")}
    assert run(res)[0][0]["discharge_status"] == "03"


def test_refuted_conditions_are_not_diagnoses_and_conditions_found_by_encounter_count():
    res, _ = resources(diagnoses=[{"sequence": 1, "text": "chest pain", "code": "R07.9"},
                                  {"sequence": 2, "text": "pneumonia", "code": None}])
    cond = [r for r in res if r["resourceType"] == "Condition"][1]
    cond["verificationStatus"] = samples._concept(
        "http://terminology.hl7.org/CodeSystem/condition-ver-status", "refuted")
    extra = copy.deepcopy(cond) | {"id": "cond-extra", "code": {"text": "anemia"}}
    del extra["verificationStatus"]
    events, _ = run([*res, extra])
    assert [d["text"] for d in events[0]["diagnoses"]] == ["chest pain", "anemia"]


def test_a_participant_npi_is_kept_as_sent_even_when_its_check_digit_fails():
    # Synthea's NPIs (9999999779) fail the Luhn check; the 837 edge validates NPIs, not the adapter
    res, _ = resources()
    by_type(res, "Encounter")["participant"][0]["individual"]["identifier"]["value"] = "9999999779"
    events, result = run(res)
    assert result.ok and events[0]["provider_npi"] == "9999999779"


def test_referenced_organizations_and_practitioners_by_urn_full_url():
    res, _ = resources(payer_id="COMM-NORTH")
    doc = samples.bundle(res)
    payer = {"resourceType": "Organization", "id": "org-payer",
             "identifier": [{"system": "urn:example:payers", "value": "COMM-NORTH"}]}
    clinic = {"resourceType": "Organization", "id": "org-clinic", "identifier": [{"value": "CLINIC-02"}]}
    doctor = {"resourceType": "Practitioner", "id": "dr",
              "identifier": [{"system": samples.NPI, "value": "1234567893"}]}
    doc["entry"] += [{"fullUrl": f"urn:uuid:0000-{r['id']}", "resource": r} for r in (payer, clinic, doctor)]
    enc = by_type(res, "Encounter")
    enc["serviceProvider"] = {"reference": "urn:uuid:0000-org-clinic"}
    enc["participant"][0]["individual"] = {"reference": "urn:uuid:0000-dr"}
    by_type(res, "Coverage")["payor"] = [{"reference": "Organization/org-payer"}]
    del by_type(res, "Coverage")["type"]
    result = convert(read_bytes(samples.dumps(doc).encode(), "t.json"), now_ms=0)
    visit = codec.decode_for(result.records[0].topic, result.records[0].value)
    assert result.ok
    assert (visit["facility_id"], visit["provider_npi"]) == ("CLINIC-02", "1234567893")
    assert (visit["payer_id"], visit["plan_type"]) == ("COMM-NORTH", "COMMERCIAL")
