"""Synthea-shaped transaction bundles (issue 9, root causes 8 and 11): urn:uuid fullUrls, no
Account, Claims without an identifier, SNOMED-coded items, payers named only by display,
conditional references, CMS Blue Button adjudication variables with floating-point residue.

The fixture is written from Synthea's documented R4 export (Encounter, Claim,
ExplanationOfBenefit as it writes them), not copied from a sample file."""
from __future__ import annotations

import json
from datetime import date

from producers.fhir.adapter import convert
from producers.fhir.read import read_bytes
from schemas import codec
from schemas import topics as T

PAT, ENC, COND, CLAIM, EOB = (f"urn:uuid:0000000{n}-1111-2222-3333-444444444444" for n in range(5))
SNOMED, CPT = "http://snomed.info/sct", "http://www.ama-assn.org/go/cpt"
BB = "https://bluebutton.cms.gov/resources/codesystem/adjudication"
SYNTHEA = "https://github.com/synthetichealth/synthea"


def uid(url: str) -> str:
    return url.removeprefix("urn:uuid:")


def snomed(code: str, text: str) -> dict:
    return {"coding": [{"system": SNOMED, "code": code, "display": text}], "text": text}


def bb(variable: str, value=None) -> dict:
    out: dict = {"category": {"coding": [{"system": BB, "code": f"https://bluebutton.cms.gov/resources/variables/{variable}"}]}}
    if value is not None:
        out["amount"] = {"value": value, "currency": "USD"}
    return out


def synthea_bundle() -> dict:
    period = {"start": "2026-03-02T09:34:33-05:00", "end": "2026-03-02T10:05:20-05:00"}
    patient = {"resourceType": "Patient", "id": uid(PAT), "gender": "female", "birthDate": "1971-06-01",
               "extension": [{"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race",
                              "extension": [{"url": "text", "valueString": "White"}]}]}
    encounter = {
        "resourceType": "Encounter", "id": uid(ENC),
        "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-encounter"]},
        "identifier": [{"use": "official", "system": SYNTHEA, "value": uid(ENC)}],
        "status": "finished", "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "type": [snomed("185345009", "Encounter for symptom (procedure)")],
        "subject": {"reference": PAT, "display": "Ms. Test"},
        "participant": [{"type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                               "code": "PPRF"}]}],
                         "individual": {"reference": "Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|9999999779",
                                        "display": "Dr. Test"}}],
        "period": period,
        "serviceProvider": {"reference": f"Organization?identifier={SYNTHEA}|b1ddf812-1fdd", "display": "CLINIC"},
    }
    condition = {"resourceType": "Condition", "id": uid(COND), "code": snomed("195662009", "Acute viral pharyngitis (disorder)"),
                 "subject": {"reference": PAT}, "encounter": {"reference": ENC},
                 "onsetDateTime": period["start"], "recordedDate": period["start"]}
    claim = {
        "resourceType": "Claim", "id": uid(CLAIM), "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
        "use": "claim", "patient": {"reference": PAT}, "billablePeriod": period, "created": period["end"],
        "provider": {"reference": f"Organization?identifier={SYNTHEA}|b1ddf812-1fdd"},
        "priority": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": "normal"}]},
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"display": "Medicaid"}}],
        "diagnosis": [{"sequence": 1, "diagnosisReference": {"reference": COND}}],
        "item": [
            {"sequence": 1, "productOrService": snomed("185345009", "Encounter for symptom (procedure)"),
             "encounter": [{"reference": ENC}]},
            {"sequence": 2, "diagnosisSequence": [1],
             "productOrService": snomed("195662009", "Acute viral pharyngitis (disorder)")},
            {"sequence": 3, "productOrService": snomed("117015009", "Throat culture (procedure)"),
             "net": {"value": 287.99, "currency": "USD"}},
            {"sequence": 4, "productOrService": {"coding": [{"system": CPT, "code": "99213"}]},
             "quantity": {"value": 1}, "net": {"value": 145.00000000000003, "currency": "USD"}},
        ],
        "total": {"value": 432.99, "currency": "USD"},
    }
    eob = {
        "resourceType": "ExplanationOfBenefit", "id": uid(EOB),
        "contained": [{"resourceType": "Coverage", "id": "coverage", "status": "active", "type": {"text": "Medicaid"},
                       "beneficiary": {"reference": PAT}, "payor": [{"display": "Medicaid"}]}],
        "identifier": [{"system": "https://bluebutton.cms.gov/resources/variables/clm_id", "value": uid(CLAIM)}],
        "status": "active", "type": claim["type"], "use": "claim", "patient": {"reference": PAT},
        "billablePeriod": period, "created": period["end"], "insurer": {"display": "Medicaid"},
        "provider": {"reference": "Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|9999999779"},
        "claim": {"reference": CLAIM}, "outcome": "complete",
        "insurance": [{"focal": True, "coverage": {"reference": "#coverage", "display": "Medicaid"}}],
        "item": [
            {"sequence": 1, "productOrService": claim["item"][0]["productOrService"], "encounter": [{"reference": ENC}]},
            {"sequence": 3, "productOrService": claim["item"][2]["productOrService"],
             "servicedPeriod": period, "net": {"value": 287.99, "currency": "USD"},
             "adjudication": [bb("line_coinsrnc_amt", 57.598000000000006), bb("line_prvdr_pmt_amt", 230.39200000000002),
                              bb("line_sbmtd_chrg_amt", 287.99), bb("line_alowd_chrg_amt", 287.99),
                              bb("line_bene_ptb_ddctbl_amt", 0), bb("line_prcsg_ind_cd")]},
        ],
        "total": [{"category": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/adjudication",
                                            "code": "submitted"}]}, "amount": {"value": 287.99, "currency": "USD"}}],
        "payment": {"amount": {"value": 230.39200000000002, "currency": "USD"}},
    }
    resources = [(PAT, patient), (ENC, encounter), (COND, condition), (CLAIM, claim), (EOB, eob)]
    return {"resourceType": "Bundle", "type": "transaction",
            "entry": [{"fullUrl": url, "resource": r, "request": {"method": "POST", "url": r["resourceType"]}}
                      for url, r in resources]}


def run(doc, name="synthea.json"):
    data = b"\xef\xbb\xbf" + json.dumps(doc).encode()  # with a UTF-8 BOM
    result = convert(read_bytes(data, name), now_ms=0)
    return [codec.decode_for(r.topic, r.value) | {"_topic": r.topic.name} for r in result.records], result


def test_a_synthea_encounter_without_account_uses_its_identifier_as_visit_and_account():
    events, _ = run(synthea_bundle())
    visit = events[0]
    assert (visit["kind"], visit["source"]) == ("DISCHARGE", "fhir Encounter")
    assert visit["visit_number"] == visit["account_id"] == uid(ENC)
    assert (visit["encounter_class"], visit["patient_sex"], visit["patient_age"]) == ("OUTPATIENT", "F", 54)
    assert visit["provider_npi"] == "9999999779"  # from the conditional reference, kept as sent
    assert visit["facility_id"] == "b1ddf812-1fdd"
    assert (visit["service_start"], visit["service_end"]) == (date(2026, 3, 2), date(2026, 3, 2))
    assert visit["diagnoses"] == [{"sequence": 1, "text": "Acute viral pharyngitis (disorder)", "code": None}]
    assert visit["payer_id"] is None  # Synthea writes no Coverage: the Claim names the payer


def test_a_synthea_claim_posts_its_lines_and_keeps_snomed_lines_as_sent_for_coding_review():
    """Root cause 11: the SNOMED-coded Throat culture keeps its code, description and net price
    (coding review gives it a charge code); the unpriced line naming the encounter is not a
    service given, and is neither posted nor refused."""
    events, result = run(synthea_bundle())
    charges = next(e for e in events if e.get("kind") == "CHARGES")
    assert (charges["visit_number"], charges["account_id"]) == (uid(ENC), uid(ENC))
    assert (charges["payer_id"], charges["plan_type"]) == ("Medicaid", "MEDICAID")
    assert charges["diagnoses"] == [{"sequence": 1, "text": "Acute viral pharyngitis (disorder)", "code": None}]
    assert charges["charges"] == [
        {"transaction_id": f"{uid(CLAIM)}-3", "charge_code": "", "units": 1, "unit_price_cents": 28799,
         "service_date": date(2026, 3, 2),
         "source_code": {"system": SNOMED, "code": "117015009", "text": "Throat culture (procedure)"}},
        {"transaction_id": f"{uid(CLAIM)}-4", "charge_code": "CM100113", "units": 1,
         "unit_price_cents": 14500, "service_date": date(2026, 3, 2), "source_code": None}]
    assert [e for e in events if e["_topic"] == "dead-letters"] == [] and result.problems == []


def test_an_unpriced_unmapped_line_that_is_not_the_encounter_line_is_refused_alone():
    doc = synthea_bundle()
    doc["entry"][3]["resource"]["item"].append(
        {"sequence": 9, "productOrService": snomed("183460006", "Obstetric emergency hospital admission")})
    events, result = run(doc)
    dead = [e for e in events if e["_topic"] == "dead-letters"]
    assert [d["reason"] for d in dead] == [
        (f"synthea.json: entry 3 (Claim/{uid(CLAIM)}): Claim.item 9: SNOMED CT 183460006 'Obstetric "
         "emergency hospital admission' has no charge-master, CPT/HCPCS or revenue code, and the line has no "
         "price (the charge master cannot price a code it lacks)")]
    assert dead[0]["source_offset"] == 3
    assert json.loads(dead[0]["payload"])["resource"]["id"] == uid(CLAIM)
    assert result.problems == [d["reason"] for d in dead]
    charges = next(e for e in events if e.get("kind") == "CHARGES")
    assert [c["transaction_id"] for c in charges["charges"]] == [f"{uid(CLAIM)}-3", f"{uid(CLAIM)}-4"]


def test_a_synthea_eob_finds_its_claim_by_urn_uuid_and_reads_blue_button_amounts():
    events, _ = run(synthea_bundle())
    rem = next(e for e in events if e["_topic"] == "remittances-unmatched")
    assert (rem["claim_id"], rem["account_id"], rem["payer_id"]) == (uid(CLAIM), uid(ENC), "Medicaid")
    assert rem["remittance_id"] == f"ExplanationOfBenefit/{uid(EOB)}"
    (line,) = rem["lines"]  # the encounter line carries no amount: no line
    assert (line["line"], line["charge_cents"], line["paid_cents"]) == (3, 28799, 23039)
    assert line["adjustments"] == [{"group_code": "PR", "reason_code": "2", "amount_cents": 5760}]
    assert (rem["total_charge_cents"], rem["total_paid_cents"], rem["patient_responsibility_cents"]) == \
        (28799, 23039, 5760)
    assert rem["claim_status"] == "1"


def test_carin_blue_button_categories_prior_payer_and_paid_to_patient():
    doc = synthea_bundle()
    eob = doc["entry"][4]["resource"]
    c4bb = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication"
    disc = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudicationDiscriminator"

    def adj(system, code, value=None):
        out = {"category": {"coding": [{"system": system, "code": code}]}}
        return out | ({"amount": {"value": value, "currency": "USD"}} if value is not None else {})

    eob["item"][1]["adjudication"] = [
        adj(c4bb, "submitted", 287.99), adj(c4bb, "eligible", 250), adj(c4bb, "priorpayerpaid", 100),
        adj(c4bb, "paidtoprovider", 100), adj(c4bb, "copay", 20), adj(c4bb, "paidtopatient", 30),
        adj(c4bb, "paidbypatient", 20), adj(disc, "benefitpaymentstatus"), adj(disc, "inoutnetwork")]
    events, _result = run(doc)
    rem = next(e for e in events if e["_topic"] == "remittances-unmatched")
    assert rem["lines"][0]["adjustments"] == [
        {"group_code": "CO", "reason_code": "45", "amount_cents": 3799},
        {"group_code": "PR", "reason_code": "3", "amount_cents": 2000},
        {"group_code": "PR", "reason_code": "100", "amount_cents": 3000},
        {"group_code": "OA", "reason_code": "23", "amount_cents": 10000}]
    assert rem["lines"][0]["paid_cents"] == 10000 and rem["patient_responsibility_cents"] == 5000


def test_an_unresolvable_claim_encounter_is_refused_and_the_rest_still_goes_through():
    doc = synthea_bundle()
    doc["entry"][3]["resource"]["item"][0]["encounter"] = [{"reference": "urn:uuid:not-in-this-bundle"}]
    events, result = run(doc)
    assert [e.get("kind") for e in events if e["_topic"] == "visit-events"] == ["DISCHARGE"]
    assert any(e["_topic"] == "remittances-unmatched" for e in events)
    assert result.problems == [(f"synthea.json: entry 3 (Claim/{uid(CLAIM)}): no visit: Claim.item.encounter "
                               "names no Encounter in the input and no Encounter identifier")]


def test_a_synthea_bundle_with_a_snomed_line_reaches_coding_review_not_a_dead_letter(coder, cm):
    """Adapter -> visit assembly -> coding: the encounter goes to review naming line and code."""
    from processors.coding.rules import code_encounter, validate_encounter
    from processors.state import VISITS_PENDING
    from processors.visits.rules import assemble
    from tests.support.stores import DictStore

    events, _ = run(synthea_bundle())
    store, encounters = DictStore(VISITS_PENDING), []
    for ev in (e for e in events if e["_topic"] == "visit-events"):
        encounters += assemble({k: v for k, v in ev.items() if k != "_topic"}, store).of(T.ENCOUNTERS)
    [enc] = encounters
    assert [(c["line"], c["charge_code"], c["unit_price_cents"]) for c in enc["charges"]] == [
        (1, "", 28799), (2, "CM100113", 14500)]
    assert validate_encounter(enc, cm, coder) == []
    kind, review = code_encounter(enc, cm, coder, 0.80)
    assert kind == "review" and review["total_charge_cents"] == 28799 + 14500
    assert ("charge line 1: SNOMED CT 117015009 'Throat culture (procedure)' is not in the charge "
            "master: give the line a charge-master or CPT/HCPCS code") in review["reasons"]
    assert uid(ENC) not in " ".join(review["reasons"])
