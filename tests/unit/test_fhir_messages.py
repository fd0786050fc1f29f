"""Message bundles from HL7 v2-to-FHIR converters (MessageHeader first) and ChargeItems (issue 9,
root causes 9, 10, 12 and 13): the v2 event gives the kind as on the HL7 path, the Bundle's
timestamp is the event time, a related person as payor is self-pay, ChargeItems post charges.
Written from the FHIR R4 spec and the HL7 v2-to-FHIR IG's ConceptMaps (event -> status,
patient class -> class)."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from producers.fhir.adapter import convert
from producers.fhir.read import read_bytes
from schemas import codec
from schemas import topics as T

V2_EVENT = "http://terminology.hl7.org/CodeSystem/v2-0003"
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
STAMP = "2026-03-02T14:30:00-05:00"
STAMP_MS = int(datetime(2026, 3, 2, 19, 30, tzinfo=UTC).timestamp() * 1000)
CPT = "http://www.ama-assn.org/go/cpt"


def message(event: str, *resources, timestamp=STAMP) -> dict:
    header = {"resourceType": "MessageHeader", "id": "mh1", "eventCoding": {"system": V2_EVENT, "code": event},
              "source": {"endpoint": "urn:hospital:adt"}}
    doc = {"resourceType": "Bundle", "id": "msg1", "type": "message", "timestamp": timestamp,
           "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in (header, *resources)]}
    if timestamp is None:
        del doc["timestamp"]
    return doc


def encounter(status="in-progress", cls=("IMP", ACT), **extra) -> dict:
    return {"resourceType": "Encounter", "id": "enc1", "status": status,
            "identifier": [{"system": "urn:hospital:visit", "value": "V24000006"}],
            "class": {"system": cls[1], "code": cls[0]}, "subject": {"reference": "urn:uuid:pat1"},
            "period": {"start": "2026-03-02T08:00:00-05:00"},
            "account": [{"identifier": {"value": "HAR123"}}], **extra}


PATIENT = {"resourceType": "Patient", "id": "pat1", "gender": "male", "birthDate": "1960-01-15"}


def run(doc, name="msg.json"):
    result = convert(read_bytes(json.dumps(doc).encode(), name), now_ms=0)
    return [codec.decode_for(r.topic, r.value) | {"_topic": r.topic.name} for r in result.records], result


@pytest.mark.parametrize(("event", "status", "cls", "kind"), [
    ("A01", "in-progress", "IMP", "ADMIT"), ("A04", "planned", "IMP", "REGISTER"),
    ("A08", "unknown", "AMB", "UPDATE"), ("A03", "finished", "IMP", "DISCHARGE"),
    ("A11", "cancelled", "AMB", "CANCEL"), ("P03", "in-progress", "IMP", "UPDATE"),
])
def test_the_v2_event_of_a_message_gives_the_kind_the_hl7_path_gives(event, status, cls, kind):
    from producers.hl7.parse import KINDS

    events, result = run(message(event, encounter(status, (cls, ACT)), PATIENT))
    assert result.ok, result.problems
    assert events[0]["kind"] == kind
    hl7_kind = next(k for (_, trigger), k in KINDS.items() if trigger == event)
    assert kind == ("UPDATE" if hl7_kind == "CHARGES" else hl7_kind)


def test_an_a01_preadmit_is_an_inpatient_admit_by_either_route():
    """v2-to-FHIR maps PV1-2 P to PRENC and A01 to in-progress; HL7 makes P an inpatient ADMIT."""
    from producers.hl7.parse import PATIENT_CLASS

    events, _ = run(message("A01", encounter("in-progress", ("PRENC", ACT)), PATIENT))
    assert (events[0]["kind"], events[0]["encounter_class"]) == ("ADMIT", PATIENT_CLASS["P"])
    events, _ = run({"resourceType": "Bundle", "type": "collection",  # no message: from the status
                     "entry": [{"resource": encounter("in-progress", ("PRENC", ACT))}]})
    assert (events[0]["kind"], events[0]["encounter_class"]) == ("ADMIT", "INPATIENT")


@pytest.mark.parametrize(("code", "cls"), [("I", "INPATIENT"), ("E", "EMERGENCY"), ("O", "OUTPATIENT"),
                                           ("P", "INPATIENT")])
def test_a_v2_patient_class_coding_maps_as_pv1_2_does(code, cls):
    events, result = run(message("A08", encounter("unknown", (code, "http://terminology.hl7.org/CodeSystem/v2-0004"))))
    assert result.ok and events[0]["encounter_class"] == cls


def test_the_message_timestamp_is_the_event_time_when_the_resource_has_none():
    events, _ = run(message("A01", encounter(), PATIENT))
    visit = events[0]
    assert visit["occurred_at"] == datetime.fromtimestamp(STAMP_MS / 1000, UTC)
    assert (visit["visit_number"], visit["account_id"], visit["patient_age"]) == ("V24000006", "HAR123", 66)
    with_meta = encounter(meta={"lastUpdated": "2026-03-02T13:00:00Z"})
    assert run(message("A01", with_meta))[0][0]["occurred_at"] == datetime(2026, 3, 2, 13, tzinfo=UTC)
    no_stamp = run(message("A01", encounter(), timestamp=None))[0][0]
    assert no_stamp["occurred_at"] == datetime(2026, 3, 2, 13, tzinfo=UTC)  # period.start


@pytest.mark.parametrize("bundle_type", ["batch", "transaction", "collection"])
def test_a_converted_bundles_timestamp_is_the_event_time_of_a_resource_with_no_other(bundle_type):
    """Converters set Bundle.timestamp from MSH-7: an in-progress Encounter without period or
    meta.lastUpdated takes it; period and meta.lastUpdated still come first."""
    bare = encounter()
    del bare["period"]
    doc = {"resourceType": "Bundle", "type": bundle_type, "timestamp": STAMP,
           "entry": [{"fullUrl": "urn:uuid:pat1", "resource": PATIENT},
                     {"fullUrl": "urn:uuid:enc1", "resource": bare}]}
    events, result = run(doc)
    assert result.ok, result.problems
    assert events[0]["occurred_at"] == datetime.fromtimestamp(STAMP_MS / 1000, UTC)
    assert (events[0]["kind"], events[0]["service_start"]) == ("ADMIT", None)
    doc["entry"][1]["resource"] = encounter()
    assert run(doc)[0][0]["occurred_at"] == datetime(2026, 3, 2, 13, tzinfo=UTC)  # period.start
    search = {**doc, "type": "searchset", "entry": [{**e, "search": {"mode": "match"}} for e in doc["entry"]]}
    search["entry"][1]["resource"] = bare
    _, result = run(search)  # when a search ran is not when the visit happened
    assert result.problems == [("msg.json: entry 1 (Encounter/enc1): no event time: meta.lastUpdated, "
                               "Bundle.timestamp or period")]


def test_a_related_person_or_the_patient_as_payor_is_self_pay():
    related = {"resourceType": "RelatedPerson", "id": "rp1", "patient": {"reference": "urn:uuid:pat1"}}
    for payor in ({"reference": "urn:uuid:rp1"}, {"reference": "RelatedPerson/elsewhere"}, {"reference": "urn:uuid:pat1"}):
        coverage = {"resourceType": "Coverage", "id": "cov1", "status": "active",
                    "beneficiary": {"reference": "urn:uuid:pat1"}, "payor": [payor]}
        events, result = run(message("A01", encounter(), PATIENT, related, coverage))
        assert result.ok, result.problems
        assert (events[0]["payer_id"], events[0]["plan_type"]) == ("SELFPAY", "SELF_PAY")


def test_an_unknown_discharge_disposition_and_plan_type_are_kept_and_defaulted():
    enc = encounter("finished", hospitalization={"dischargeDisposition": {"coding": [
        {"system": "urn:hospital:dispo", "code": "HOMEHLTH"}]}})
    coverage = {"resourceType": "Coverage", "id": "cov1", "status": "active",
                "type": {"coding": [{"system": "urn:hospital:plans", "code": "ZZ9"}]},
                "beneficiary": {"reference": "urn:uuid:pat1"},
                "payor": [{"identifier": {"value": "ACME-HEALTH-77"}}]}
    events, result = run(message("A03", enc, PATIENT, coverage))
    assert result.ok
    assert events[0]["discharge_status"] == "HOMEHLTH"
    assert (events[0]["payer_id"], events[0]["plan_type"]) == ("ACME-HEALTH-77", "COMMERCIAL")


def test_a_payor_organization_with_only_a_contact_leaves_the_payer_unknown_as_hl7_does():
    """A converted IN1 with only a contact gives an Organization with no identifier or name: the
    Encounter goes through with no payer, and its visit waits for an update that names one."""
    from processors.state import VISITS_PENDING
    from processors.visits.rules import assemble
    from tests.support.stores import DictStore

    contact_only = {"resourceType": "Organization", "id": "org1",
                    "contact": [{"telecom": [{"system": "phone", "value": "555-0100"}]}]}
    coverage = {"resourceType": "Coverage", "id": "cov1", "status": "active",
                "beneficiary": {"reference": "urn:uuid:pat1"}, "payor": [{"reference": "urn:uuid:org1"}]}
    enc = encounter("finished", period={"start": "2026-03-02T08:00:00-05:00", "end": "2026-03-04T10:00:00-05:00"})
    item = charge_item(1, code={"coding": [{"system": CPT, "code": "99213"}]})
    events, result = run(message("A03", enc, PATIENT, contact_only, coverage, item))
    assert result.ok, result.problems
    assert (events[0]["kind"], events[0]["payer_id"], events[0]["plan_type"]) == ("DISCHARGE", None, None)
    store = DictStore(VISITS_PENDING)
    assert assemble(events[0], store).of(T.ENCOUNTERS) == []
    held = assemble(events[1], store)
    assert held.of(T.ENCOUNTERS) == [] and "lacks payer_id, plan_type" in held.rejected[0][1]
    named = {**contact_only, "name": "Acme Health Plan"}
    events, _ = run(message("A08", encounter("finished"), PATIENT, named, coverage))
    assert (events[0]["payer_id"], events[0]["plan_type"]) == ("Acme Health Plan", "COMMERCIAL")
    still = assemble(events[0], store)  # this fixture sends no provider, facility or diagnosis
    [(_, problem)] = still.rejected
    assert "lacks provider_npi" in problem and "payer_id" not in problem


def charge_item(n: int, **fields) -> dict:
    return {"resourceType": "ChargeItem", "id": f"ci{n}", "status": "billable",
            "identifier": [{"value": f"FT1-{n}"}], "subject": {"reference": "urn:uuid:pat1"},
            "context": {"reference": "urn:uuid:enc1"}, "occurrenceDateTime": "2026-03-02T09:15:00-05:00",
            "extension": [{"url": "urn:hospital:ext:cost-center", "valueString": "4410"}], **fields}


def test_charge_items_of_a_converted_dft_post_charges():
    definition = {"resourceType": "ChargeItemDefinition", "id": "cid1", "url": "urn:hospital:cdm:CM100303",
                  "status": "active", "propertyGroup": [{"priceComponent": [
                      {"type": "base", "amount": {"value": 26.5, "currency": "USD"}}]}]}
    items = [
        charge_item(1, code={"coding": [{"system": CPT, "code": "99213"}]}, quantity={"value": 2},
                    priceOverride={"value": 290.0, "currency": "USD"}),
        charge_item(2, code={"coding": [{"system": "urn:rcm-pipeline:charge-master", "code": "CM100302"}]},
                    totalPriceComponent={"type": "base", "amount": {"value": 90, "currency": "USD"}}),
        charge_item(3, code={"coding": [{"system": CPT, "code": "36415"}]},
                    definitionCanonical=["urn:hospital:cdm:CM100303|2026"], occurrenceDateTime="2026-03-03"),
        charge_item(4, code={"coding": [{"system": CPT, "code": "36415"}]}),
    ]
    events, result = run(message("P03", encounter(), PATIENT, definition, *items))
    assert result.ok, result.problems
    assert events[0]["kind"] == "UPDATE"
    posted = [e for e in events if e["kind"] == "CHARGES"]
    assert {(e["source"], e["visit_number"], e["account_id"]) for e in posted} == {("fhir ChargeItem", "V24000006", "HAR123")}
    assert [e["charges"] for e in posted] == [
        [{"transaction_id": "FT1-1", "charge_code": "CM100113", "units": 2, "unit_price_cents": 14500,
          "service_date": date(2026, 3, 2), "source_code": None}],
        [{"transaction_id": "FT1-2", "charge_code": "CM100302", "units": 1, "unit_price_cents": 9000,
          "service_date": date(2026, 3, 2), "source_code": None}],
        [{"transaction_id": "FT1-3", "charge_code": "CM100303", "units": 1, "unit_price_cents": 2650,
          "service_date": date(2026, 3, 3), "source_code": None}],
        [{"transaction_id": "FT1-4", "charge_code": "CM100303", "units": 1, "unit_price_cents": 2500,
          "service_date": date(2026, 3, 2), "source_code": None}]]
    assert all(e["occurred_at"] == datetime.fromtimestamp(STAMP_MS / 1000, UTC) for e in posted)


def test_a_charge_item_with_only_an_account_posts_to_the_account():
    item = charge_item(1, code={"coding": [{"system": CPT, "code": "99213"}]}, account=[{"identifier": {"value": "4000776"}}])
    del item["context"]
    events, result = run(message("P03", item))
    assert result.ok and (events[0]["visit_number"], events[0]["account_id"]) == ("4000776", "4000776")


def test_broken_charge_items_are_refused_naming_the_field_and_the_others_post():
    items = [charge_item(1, code={"coding": [{"system": CPT, "code": "99213"}]},
                         priceOverride={"value": -145, "currency": "USD"}),
             charge_item(2, code={"coding": [{"system": CPT, "code": "99213"}]}, occurrenceDateTime="2026-02-30"),
             charge_item(3, code={"coding": [{"system": CPT, "code": "99213"}]}, status="not-billable"),
             charge_item(4, code={"coding": [{"system": CPT, "code": "99213"}]})]
    events, result = run(message("P03", encounter(), *items))
    assert [e.get("kind") for e in events] == ["UPDATE", "CHARGES", None, None]
    assert result.problems[0] == "msg.json: entry 2 (ChargeItem/ci1): ChargeItem: negative price"
    assert result.problems[1].startswith("msg.json: entry 3 (ChargeItem/ci2): invalid ChargeItem: occurrenceDateTime")
    assert "ChargeItem.status not-billable" in result.skipped[0]


def test_an_encounter_ending_before_it_starts_is_refused_and_the_message_keeps_the_rest():
    bad = encounter("finished", period={"start": "2026-03-05", "end": "2026-03-02"})
    item = charge_item(1, code={"coding": [{"system": CPT, "code": "99213"}]}, context={"identifier": {"value": "V1"}},
                       account=[{"identifier": {"value": "HAR9"}}])
    events, result = run(message("A03", bad, item))
    assert [e.get("kind") for e in events] == ["CHARGES", None]
    assert result.problems == ["msg.json: entry 1 (Encounter/enc1): Encounter.period.end is before period.start"]


def test_a_searchset_with_an_operation_outcome_and_a_bad_timestamp():
    doc = {"resourceType": "Bundle", "type": "searchset", "timestamp": "yesterday", "total": 1,
           "entry": [{"fullUrl": "https://ehr.example/fhir/Encounter/enc1", "search": {"mode": "match"},
                      "resource": encounter("finished")},
                     {"search": {"mode": "outcome"}, "resource": {"resourceType": "OperationOutcome", "issue": []}}]}
    events, result = run(doc)  # a searchset's timestamp is not the event time: not read
    assert result.ok and events[0]["kind"] == "DISCHARGE" and result.ignored == {"OperationOutcome": 1}
    _, result = run(message("A01", encounter(), timestamp="yesterday"))
    assert result.problems == ["msg.json: entry 1 (Encounter/enc1): Bundle.timestamp is not a FHIR instant"]


def test_a_charge_item_the_charge_master_lacks_is_kept_as_sent_for_coding_review():
    """Root causes 11 and 12: a CPT code the charge master lacks, or a SNOMED CT code, posts with
    its code, system, description and price; without a price it is refused with that reason."""
    cpt = charge_item(1, code={"coding": [{"system": CPT, "code": "99392", "display": "Preventive visit"}]},
                      quantity={"value": 2}, priceOverride={"value": 301.5, "currency": "USD"})
    sct = charge_item(2, code={"coding": [{"system": "http://snomed.info/sct", "code": "117015009",
                                           "display": "Throat culture (procedure)"}]})
    events, result = run(message("P03", encounter(), cpt, sct))
    assert [e.get("kind") for e in events] == ["UPDATE", "CHARGES", None]
    assert events[1]["charges"] == [
        {"transaction_id": "FT1-1", "charge_code": "", "units": 2, "unit_price_cents": 15075,
         "service_date": date(2026, 3, 2),
         "source_code": {"system": CPT, "code": "99392", "text": "Preventive visit"}}]
    assert result.problems == [("msg.json: entry 3 (ChargeItem/ci2): ChargeItem.code: SNOMED CT 117015009 "
                               "'Throat culture (procedure)' has no charge-master, CPT/HCPCS or revenue code, "
                               "and the line has no price (the charge master cannot price a code it lacks)")]
