"""Encounter -> VisitEvent (ADMIT/REGISTER/UPDATE/DISCHARGE/CANCEL), Claim -> VisitEvent CHARGES.

Kind: in a message Bundle whose MessageHeader names an HL7 v2 trigger event (v2-0003: A01, A03,
A04, ... as converters from v2 write it), the kind the HL7 path gives that event
(producers.hl7.parse.KINDS), so one ADT^A01 is one ADMIT by either route; a charge event's
Encounter is an UPDATE. Otherwise Encounter.status: planned/arrived/triaged/in-progress -> ADMIT
for inpatient classes, REGISTER otherwise; onleave/unknown -> UPDATE; finished -> DISCHARGE;
cancelled/entered-in-error -> CANCEL.
Class (v3 ActCode, by code): IMP/ACUTE/NONAC/PRENC -> INPATIENT (PRENC is v2 class P, pre-admit,
inpatient as in the HL7 path), EMER -> EMERGENCY, AMB/OBSENC/SS -> OUTPATIENT unless
Encounter.type carries CMS place of service 11 (office), then OFFICE; VR/HH -> OFFICE; a v2-0004
patient class coding maps as the HL7 path maps PV1-2.
"""
from __future__ import annotations

from datetime import datetime

from producers.fhir import parties
from producers.fhir.charges import charge_lines, concept_codes
from producers.fhir.common import (
    DISCHARGE_HL7,
    DISCHARGE_UB04,
    EVENT_TYPE_V2,
    ICD10CM,
    ICD10PCS,
    PATIENT_CLASS_V2,
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
CLASS = {"IMP": "INPATIENT", "ACUTE": "INPATIENT", "NONAC": "INPATIENT", "PRENC": "INPATIENT",
         "EMER": "EMERGENCY", "AMB": "AMBULATORY", "OBSENC": "AMBULATORY", "SS": "AMBULATORY",
         "VR": "OFFICE", "HH": "OFFICE"}
OFFICE_POS = "11"
# HL7 discharge-disposition -> UB-04 patient discharge status
DISPOSITION = {"home": "01", "alt-home": "01", "hosp": "02", "snf": "03", "other-hcf": "05",
               "aadvice": "07", "exp": "20", "rehab": "62", "long": "63", "psy": "65",
               "hosp-hospice": "51", "home-hospice": "50"}
DROPPED_CONDITIONS = ("refuted", "entered-in-error")


def _event_kinds() -> tuple[str, ...]:
    """The VisitEventKind symbols of the contract (a kind the HL7 path gains is one here too)."""
    from schemas.codec import schema_json

    kind = next(f for f in schema_json("VisitEvent")["fields"] if f["name"] == "kind")
    return tuple(kind["type"]["symbols"])


def message_kind(bundle) -> str | None:
    """The HL7 path's kind for the v2 trigger event a message Bundle's MessageHeader names."""
    from producers.hl7.parse import KINDS

    code = (getattr(bundle, "event_code", None) or "").strip().upper()
    if bundle is None or bundle.type != "message" or not code or \
            bundle.event_system not in (EVENT_TYPE_V2, None):
        return None
    kind = next((k for (_, trigger), k in KINDS.items() if trigger == code and k in _event_kinds()), None)
    return "UPDATE" if kind == "CHARGES" else kind


def encounter_class(encounter) -> str:
    from producers.hl7.parse import OFFICE_TYPES, PATIENT_CLASS

    coding = encounter.class_fhir
    code = (coding.code or "").strip() if coding is not None else ""
    if coding is not None and coding.system == PATIENT_CLASS_V2 and code.upper() in PATIENT_CLASS:
        cls = PATIENT_CLASS[code.upper()]
        types = {c.code.upper() for t in encounter.type or [] for c in t.coding or [] if c.code}
        return "OFFICE" if cls == "OUTPATIENT" and types & OFFICE_TYPES else cls
    if code not in CLASS:
        raise MappingError("Encounter.class is not a v3 ActCode IMP/ACUTE/NONAC/PRENC/EMER/AMB/"
                           "OBSENC/SS/VR/HH or a v2-0004 patient class")
    cls = CLASS[code]
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
    if code is None:  # a local or unknown code: kept as sent, as the HL7 path keeps PV1-36
        code = next((c.code.strip() for c in concept.coding or [] if c.code and c.code.strip()), None)
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


# Bundles whose timestamp is when the sender assembled them (converters set it from MSH-7): the
# event time of a resource that says nothing else. A searchset's is when the search ran.
ASSEMBLED = ("batch", "transaction", "collection")


def bundle_time(entry, types: tuple[str, ...] = ("message",)) -> int | None:
    """The Bundle's timestamp in epoch ms when the Bundle is of one of `types` (by default a
    message, whose timestamp is the event's), None otherwise or when it has none."""
    stamp = getattr(entry.bundle, "timestamp", None)
    if not stamp or entry.bundle.type not in types:
        return None
    try:
        at = datetime.fromisoformat(stamp)
    except ValueError as exc:
        raise MappingError("Bundle.timestamp is not a FHIR instant") from exc
    if at.tzinfo is None:
        raise MappingError("Bundle.timestamp has no time zone (a FHIR instant needs one)")
    return millis(at)


def encounter_event(entry, index, now_ms: int) -> dict:
    enc = entry.model
    kind = STATUS_KIND.get(enc.status)
    if kind is None:
        raise MappingError("Encounter.status is not an R4 encounter status")
    cls = encounter_class(enc)
    if kind == "START":
        kind = "ADMIT" if cls == "INPATIENT" else "REGISTER"
    kind = message_kind(entry.bundle) or kind
    start, end = (day(enc.period.start), day(enc.period.end)) if enc.period else (None, None)
    if start is not None and end is not None and end < start:
        raise MappingError("Encounter.period.end is before period.start")
    occurred = millis(enc.meta.lastUpdated if enc.meta and enc.meta.lastUpdated else None) or \
        bundle_time(entry) or millis(enc.period.end if enc.period else None) or \
        millis(enc.period.start if enc.period else None) or bundle_time(entry, ASSEMBLED)
    if occurred is None:
        raise MappingError("no event time: meta.lastUpdated, Bundle.timestamp or period")
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


def claim_payer(claim, index) -> dict:
    """The focal insurance's Coverage, or the payer its display names (Synthea)."""
    focal = sorted(claim.insurance or [], key=lambda i: (not i.focal, i.sequence))
    if not focal:
        return {}
    ref = focal[0].coverage
    coverage = index.resolve(ref, "Coverage")
    if coverage is None and not ref.reference and ref.display:
        return parties.named_payer(ref.display)
    return parties.payer(coverage, index)


def claim_event(entry, index, now_ms: int, charge_master, charge_system: str) -> tuple[dict, list[str]]:
    """(the CHARGES VisitEvent, the reasons of the lines that could not be mapped)."""
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
        account = parties.account_id(None, index, also=(claim,), visit=visit)
    else:
        raise MappingError("no visit: Claim.item.encounter names no Encounter in the input and "
                           "no Encounter identifier")
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
    types = frozenset().union(*(concept_codes(t) for t in (enc.type or []))) if enc else frozenset()
    lines, unmapped = charge_lines(claim, entry.raw, charge_master, charge_system, types)
    return {
        "event_id": event_id(claim, entry.raw), "kind": "CHARGES", "source": "fhir Claim",
        "visit_number": visit, "account_id": account,
        "occurred_at": millis(claim.created) or bundle_time(entry, ("message", *ASSEMBLED)),
        "emitted_at": now_ms, "diagnoses": diagnoses, "procedures_pcs": _pcs(pcs_concepts),
        "charges": lines, **claim_payer(claim, index),
    }, unmapped
