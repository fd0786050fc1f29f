"""Encounter -> VisitEvent (ADMIT/REGISTER/UPDATE/DISCHARGE/CANCEL), Claim -> VisitEvent CHARGES.

Status -> kind: planned/arrived/triaged/in-progress -> ADMIT for inpatient classes, REGISTER
otherwise; onleave/unknown -> UPDATE; finished -> DISCHARGE; cancelled/entered-in-error -> CANCEL.
Class (v3 ActCode): IMP/ACUTE/NONAC -> INPATIENT, EMER -> EMERGENCY, AMB/OBSENC/SS -> OUTPATIENT
unless Encounter.type carries CMS place of service 11 (office), then OFFICE; VR/HH/PRENC -> OFFICE.
"""
from __future__ import annotations

from producers.fhir import parties
from producers.fhir.charges import charge_lines
from producers.fhir.common import (
    ACT_CODE,
    DISCHARGE_HL7,
    DISCHARGE_UB04,
    ICD10CM,
    ICD10PCS,
    PLACE_OF_SERVICE,
    MappingError,
    Skipped,
    codings,
    day,
    event_id,
    first_code,
    millis,
)
from producers.fhir.model import keys_of

STATUS_KIND = {"planned": "START", "arrived": "START", "triaged": "START", "in-progress": "START",
               "onleave": "UPDATE", "unknown": "UPDATE", "finished": "DISCHARGE",
               "cancelled": "CANCEL", "entered-in-error": "CANCEL"}
CLASS = {"IMP": "INPATIENT", "ACUTE": "INPATIENT", "NONAC": "INPATIENT", "EMER": "EMERGENCY",
         "AMB": "AMBULATORY", "OBSENC": "AMBULATORY", "SS": "AMBULATORY",
         "VR": "OFFICE", "HH": "OFFICE", "PRENC": "OFFICE"}
OFFICE_POS = "11"
# HL7 discharge-disposition -> UB-04 patient discharge status
DISPOSITION = {"home": "01", "alt-home": "01", "hosp": "02", "snf": "03", "other-hcf": "05",
               "aadvice": "07", "exp": "20", "rehab": "62", "long": "63", "psy": "65",
               "hosp-hospice": "51", "home-hospice": "50"}
DROPPED_CONDITIONS = ("refuted", "entered-in-error")


def encounter_class(encounter) -> str:
    coding = encounter.class_fhir
    if coding is None or coding.system not in (ACT_CODE, None) or coding.code not in CLASS:
        raise MappingError("Encounter.class is not a v3 ActCode IMP/ACUTE/NONAC/EMER/AMB/OBSENC/SS/VR/HH/PRENC")
    cls = CLASS[coding.code]
    if cls == "AMBULATORY":
        pos = {c.code for t in encounter.type or [] for c in codings(t, PLACE_OF_SERVICE)}
        cls = "OFFICE" if OFFICE_POS in pos else "OUTPATIENT"
    return cls


def discharge_status(encounter) -> str | None:
    concept = getattr(encounter.hospitalization, "dischargeDisposition", None)
    if concept is None:
        return None
    code = first_code(concept, DISCHARGE_UB04)
    if code is None:
        hl7 = first_code(concept, DISCHARGE_HL7)
        code = DISPOSITION.get(hl7 or "")
    if code is None or not (len(code) == 2 and code.isdigit()):
        raise MappingError("hospitalization.dischargeDisposition has no UB-04 status (NUBC "
                           "PatDischargeStatus) or known HL7 discharge-disposition code")
    return code


def diagnosis(concept, where: str, sequence: int) -> dict:
    code = first_code(concept, ICD10CM)
    text = (concept.text or "").strip() if concept else ""
    if not text and concept is not None:
        text = next((c.display.strip() for c in concept.coding or [] if c.display), "")
    if not text and not code:
        raise MappingError(f"{where} has neither code.text nor an ICD-10-CM coding")
    return {"sequence": sequence, "text": text, "code": code}


def _conditions(encounter, index, keys) -> list:
    ranked = sorted(enumerate(encounter.diagnosis or []), key=lambda p: (p[1].rank or 99, p[0]))
    found, seen = [], set()
    for _, d in ranked:
        if (d.condition.reference or "").split("/")[-2:-1] != ["Procedure"]:
            cond = index.resolve(d.condition)
            if cond is not None and cond.get_resource_type() == "Condition" and id(cond) not in seen:
                found.append(cond)
                seen.add(id(cond))
    found += [c for c in index.referring("Condition", "encounter", keys) if id(c) not in seen]
    return [c for c in found
            if first_code(c.verificationStatus, "http://terminology.hl7.org/CodeSystem/condition-ver-status")
            not in DROPPED_CONDITIONS]


def _pcs(concepts) -> list[dict]:
    codes = [first_code(c, ICD10PCS) for c in concepts]
    return [{"sequence": n, "code": code} for n, code in enumerate((c for c in codes if c), 1)]


def encounter_event(entry, index, now_ms: int) -> dict:
    enc = entry.model
    kind = STATUS_KIND.get(enc.status)
    if kind is None:
        raise MappingError("Encounter.status is not an R4 encounter status")
    cls = encounter_class(enc)
    if kind == "START":
        kind = "ADMIT" if cls == "INPATIENT" else "REGISTER"
    start, end = (day(enc.period.start), day(enc.period.end)) if enc.period else (None, None)
    occurred = millis(enc.meta.lastUpdated if enc.meta and enc.meta.lastUpdated else None) or \
        millis(enc.period.end if enc.period else None) or millis(enc.period.start if enc.period else None)
    if occurred is None:
        raise MappingError("no event time: meta.lastUpdated or period")
    keys = keys_of(enc, entry.full_url)
    subject = set()
    if enc.subject is not None and enc.subject.reference:
        subject = {enc.subject.reference, "/".join(enc.subject.reference.split("/")[-2:])}
    procedures = [p for p in index.referring("Procedure", "encounter", keys)
                  if p.status not in ("entered-in-error", "not-done")]
    rec = {
        "event_id": event_id(enc, entry.raw), "kind": kind, "source": "fhir Encounter",
        "visit_number": parties.visit_number(enc), "account_id": parties.account_id(enc, index),
        "occurred_at": occurred, "emitted_at": now_ms, "encounter_class": cls,
        "provider_npi": parties.provider_npi(enc, index), "facility_id": parties.facility_id(enc, index),
        "service_start": start, "service_end": end, "discharge_status": discharge_status(enc),
        "diagnoses": [diagnosis(c.code, f"Condition/{c.id}", n)
                      for n, c in enumerate(_conditions(enc, index, keys), 1)],
        "procedures_pcs": _pcs(p.code for p in procedures), "charges": [],
        **parties.patient(enc, index, start or day(enc.meta.lastUpdated if enc.meta else None)),
        **parties.payer(parties.coverage_of(enc, index, subject), index),
    }
    return rec


def _claim_encounter(claim, index):
    for item in claim.item or []:
        for ref in item.encounter or []:
            found = index.resolve(ref, "Encounter")
            if found is not None or (ref.identifier is not None and ref.identifier.value):
                return found, ref
    return None, None


def claim_event(entry, index, now_ms: int, charge_master, charge_system: str) -> dict:
    claim = entry.model
    if claim.status in ("cancelled", "entered-in-error", "draft"):
        raise Skipped(f"Claim.status {claim.status}: no charges to post")
    if claim.use not in (None, "claim"):
        raise Skipped(f"Claim.use {claim.use}: not a claim for services given")
    enc, ref = _claim_encounter(claim, index)
    if enc is not None:
        visit, account = parties.visit_number(enc), parties.account_id(enc, index, also=(claim,))
    elif ref is not None:
        visit = ref.identifier.value.strip()
        account = parties.account_id(None, index, also=(claim,))
    else:
        raise MappingError("no visit: Claim.item.encounter names no Encounter in the input and "
                           "no Encounter identifier")
    focal = sorted(claim.insurance or [], key=lambda i: (not i.focal, i.sequence))
    coverage = index.resolve(focal[0].coverage, "Coverage") if focal else None
    diagnoses = []
    for d in sorted(claim.diagnosis or [], key=lambda d: d.sequence):
        concept = d.diagnosisCodeableConcept
        if concept is None and d.diagnosisReference is not None:
            cond = index.resolve(d.diagnosisReference, "Condition")
            concept = cond.code if cond else None
        diagnoses.append(diagnosis(concept, f"Claim.diagnosis {d.sequence}", len(diagnoses) + 1))
    pcs_concepts = []
    for p in sorted(claim.procedure or [], key=lambda p: p.sequence):
        concept = p.procedureCodeableConcept
        if concept is None and p.procedureReference is not None:
            proc = index.resolve(p.procedureReference, "Procedure")
            concept = proc.code if proc else None
        pcs_concepts.append(concept)
    return {
        "event_id": event_id(claim, entry.raw), "kind": "CHARGES", "source": "fhir Claim",
        "visit_number": visit, "account_id": account, "occurred_at": millis(claim.created),
        "emitted_at": now_ms, "diagnoses": diagnoses, "procedures_pcs": _pcs(pcs_concepts),
        "charges": charge_lines(claim, entry.raw, charge_master, charge_system),
        **parties.payer(coverage, index),
    }
