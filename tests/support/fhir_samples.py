"""FHIR R4 test bundles from the synthetic hospital's encounters and remittances (our own data;
the repository ships no third-party samples). Money is written as exact JSON decimals."""
from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from producers.fhir.common import (
    ACT_CODE,
    CARC,
    CAS_GROUP,
    CHARGE_SYSTEM,
    DISCHARGE_UB04,
    ICD10CM,
    ICD10PCS,
    IDENTIFIER_TYPE,
    NPI,
    PAYER_SYSTEM,
    PAYMENT_TYPOLOGY,
    PLACE_OF_SERVICE,
    RARC,
)

CLASS_CODE = {"INPATIENT": "IMP", "EMERGENCY": "EMER", "OFFICE": "AMB", "OUTPATIENT": "AMB"}
POS = {"OFFICE": "11", "OUTPATIENT": "22", "EMERGENCY": "23", "INPATIENT": "21"}
TYPOLOGY = {"MEDICARE": "1", "MEDICAID": "2", "COMMERCIAL": "5", "SELF_PAY": "81"}
GENDER = {"F": "female", "M": "male", "U": "unknown"}
ADJ = "http://terminology.hl7.org/CodeSystem/adjudication"
PATIENT_SHARE = {"3": "copay", "1": "deductible", "2": "coinsurance"}


def _instant(at: datetime | int) -> str:
    at = at if isinstance(at, datetime) else datetime.fromtimestamp(at / 1000, UTC)
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _money(cents: int) -> dict:
    return {"value": Decimal(cents).scaleb(-2), "currency": "USD"}


def _concept(system: str, code: str, text: str | None = None) -> dict:
    out: dict = {"coding": [{"system": system, "code": code}]}
    if text:
        out["text"] = text
    return out


def _birth_date(start: date, age: int) -> str:
    """A birth date that makes the patient `age` on `start` (the birthday is the next day)."""
    anchor = date(start.year - age - 1, start.month, min(start.day, 28) if start.month == 2 else start.day)
    return (anchor + timedelta(days=1)).isoformat()


def encounter_resources(enc: dict, charge_system: str = CHARGE_SYSTEM) -> list[dict]:
    """Patient, Account, Coverage, Encounter, Conditions, Procedures and the Claim of one
    synthetic EncounterReceived record."""
    eid, cls = enc["encounter_id"], enc["encounter_class"]
    pid, cov_id, acct = f"pat-{eid}", f"cov-{eid}", f"acct-{eid}"
    meta = {"versionId": "1", "lastUpdated": _instant(enc["occurred_at"])}
    patient = {"resourceType": "Patient", "id": pid, "gender": GENDER[enc["patient_sex"]],
               "birthDate": _birth_date(enc["service_start"], enc["patient_age"])}
    self_pay = enc["plan_type"] == "SELF_PAY"
    coverage = {"resourceType": "Coverage", "id": cov_id, "status": "active",
                "type": _concept(PAYMENT_TYPOLOGY[0], TYPOLOGY[enc["plan_type"]]),
                "beneficiary": {"reference": f"Patient/{pid}"},
                "payor": [{"reference": f"Patient/{pid}"} if self_pay else
                          {"identifier": {"system": PAYER_SYSTEM, "value": enc["payer_id"]}}]}
    account = {"resourceType": "Account", "id": acct, "status": "active",
               "identifier": [{"type": _concept(IDENTIFIER_TYPE, "AN"), "value": enc["account_id"]}],
               "coverage": [{"coverage": {"reference": f"Coverage/{cov_id}"}, "priority": 1}]}
    conditions = []
    for d in enc["diagnoses"]:
        concept: dict = {"text": d["text"]}
        if d.get("code"):
            concept["coding"] = [{"system": ICD10CM, "code": d["code"]}]
        conditions.append({"resourceType": "Condition", "id": f"cond-{eid}-{d['sequence']}",
                           "code": concept, "subject": {"reference": f"Patient/{pid}"},
                           "encounter": {"reference": f"Encounter/{eid}"}})
    procedures = [{"resourceType": "Procedure", "id": f"proc-{eid}-{p['sequence']}", "status": "completed",
                   "code": _concept(ICD10PCS[0], p["code"]), "subject": {"reference": f"Patient/{pid}"},
                   "encounter": {"reference": f"Encounter/{eid}"}}
                  for p in enc.get("procedures_pcs") or []]
    encounter = {
        "resourceType": "Encounter", "id": eid, "meta": meta, "status": "finished",
        "identifier": [{"type": _concept(IDENTIFIER_TYPE, "VN"), "value": eid}],
        "class": {"system": ACT_CODE, "code": CLASS_CODE[cls]},
        "type": [_concept(PLACE_OF_SERVICE[0], POS[cls])],
        "subject": {"reference": f"Patient/{pid}"},
        "participant": [{"type": [_concept("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "ATND")],
                         "individual": {"identifier": {"system": NPI, "value": enc["provider_npi"]}}}],
        "period": {"start": enc["service_start"].isoformat(), "end": enc["service_end"].isoformat()},
        "diagnosis": [{"condition": {"reference": f"Condition/{c['id']}"}, "rank": n}
                      for n, c in enumerate(conditions, 1)],
        "account": [{"reference": f"Account/{acct}"}],
        "serviceProvider": {"identifier": {"system": "urn:rcm-pipeline:facility", "value": enc["facility_id"]}},
    }
    if enc.get("discharge_status"):
        encounter["hospitalization"] = {"dischargeDisposition": _concept(DISCHARGE_UB04[0], enc["discharge_status"])}
    claim = {
        "resourceType": "Claim", "id": f"claim-{eid}", "meta": meta, "status": "active", "use": "claim",
        "identifier": [{"value": f"CLM-{eid}"}],
        "type": _concept("http://terminology.hl7.org/CodeSystem/claim-type",
                         "professional" if cls == "OFFICE" else "institutional"),
        "patient": {"reference": f"Patient/{pid}"}, "created": _instant(enc["occurred_at"]),
        "provider": encounter["serviceProvider"], "priority": {"text": "normal"},
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": f"Coverage/{cov_id}"}}],
        "diagnosis": [{"sequence": d["sequence"],
                       "diagnosisCodeableConcept": conditions[n]["code"]} for n, d in enumerate(enc["diagnoses"])],
        "procedure": [{"sequence": p["sequence"], "procedureCodeableConcept": _concept(ICD10PCS[0], p["code"])}
                      for p in enc.get("procedures_pcs") or []],
        "item": [{"sequence": c["line"], "encounter": [{"reference": f"Encounter/{eid}"}],
                  "productOrService": _concept(charge_system, c["charge_code"]),
                  "quantity": {"value": c["units"]}, "unitPrice": _money(c["unit_price_cents"]),
                  "net": _money(c["units"] * c["unit_price_cents"]),
                  "servicedDate": c["service_date"].isoformat()} for c in enc["charges"]],
    }
    if not claim["procedure"]:
        del claim["procedure"]
    return [patient, account, coverage, encounter, *conditions, *procedures, claim]


def _adjudication(category: str, cents: int | None = None, reason: dict | None = None) -> dict:
    out: dict = {"category": _concept(ADJ, category)}
    if cents is not None:
        out["amount"] = _money(cents)
    if reason:
        out["reason"] = reason
    return out


def _reason(group: str | None, carc: str | None, rarcs=()) -> dict:
    coding = [{"system": CARC, "code": carc}] if carc else []
    if group and group != "CO":
        coding.append({"system": CAS_GROUP, "code": group})
    coding += [{"system": RARC, "code": r} for r in rarcs]
    return {"coding": coding}


def claim_response(rem: dict) -> dict:
    """A ClaimResponse for one synthetic RemittanceReceived record."""
    items = []
    for ln in rem["lines"]:
        adj = [_adjudication("submitted", ln["charge_cents"]), _adjudication("benefit", ln["paid_cents"])]
        co45 = sum(a["amount_cents"] for a in ln["adjustments"] if (a["group_code"], a["reason_code"]) == ("CO", "45"))
        if co45:
            adj.append(_adjudication("eligible", ln["charge_cents"] - co45))
        for a in ln["adjustments"]:
            if a["group_code"] == "PR" and a["reason_code"] in PATIENT_SHARE:
                adj.append(_adjudication(PATIENT_SHARE[a["reason_code"]], a["amount_cents"]))
            elif (a["group_code"], a["reason_code"]) != ("CO", "45"):
                adj.append({**_adjudication("noncovered", a["amount_cents"],
                                            _reason(a["group_code"], a["reason_code"]))})
        if ln["remarks"]:
            adj.append(_adjudication("denialreason", None, _reason(None, None, ln["remarks"])))
        items.append({"itemSequence": ln["line"], "adjudication": adj})
    out = {
        "resourceType": "ClaimResponse", "id": f"cr-{rem['remittance_id']}", "status": "active",
        "meta": {"versionId": "1"},
        "identifier": [{"value": rem["payer_claim_control_number"]}],
        "type": _concept("http://terminology.hl7.org/CodeSystem/claim-type", "institutional"),
        "use": "claim", "patient": {"display": "patient"}, "created": _instant(rem["occurred_at"]),
        "insurer": {"identifier": {"system": PAYER_SYSTEM, "value": rem["payer_id"]}},
        "request": {"identifier": {"value": rem["claim_id"]}}, "outcome": "complete", "item": items,
        "payment": {"type": _concept("http://terminology.hl7.org/CodeSystem/ex-paymenttype", "complete"),
                    "amount": _money(rem["total_paid_cents"]),
                    "identifier": {"value": rem["trace_number"]}},
    }
    if rem["remarks"]:
        out["adjudication"] = [_adjudication("denialreason", None, _reason(None, None, rem["remarks"]))]
    return out


def bundle(resources: list[dict], bundle_id: str = "rcm-sample") -> dict:
    return {"resourceType": "Bundle", "id": bundle_id, "type": "collection",
            "entry": [{"fullUrl": f"urn:rcm:{r['resourceType']}/{r['id']}", "resource": r} for r in resources]}


_DECIMAL = re.compile(r'"@dec:(-?[0-9.]+)"')


def dumps(doc, indent: int | None = None) -> str:
    """JSON with Decimals written as exact JSON numbers (json itself would need a float)."""
    text = json.dumps(doc, indent=indent, default=lambda v: f"@dec:{v}" if isinstance(v, Decimal) else str(v))
    return _DECIMAL.sub(r"\1", text)


def synthetic_bundles(events: int = 200, seed: int = 7, start: date = date(2026, 1, 5)) -> list[tuple[dict, dict | None, dict]]:
    """(encounter, its remittance or None, the Bundle of both) from the seeded synthetic hospital."""
    from producers.synthetic import generate
    from schemas import codec
    from schemas.topics import ENCOUNTERS, REMITTANCES

    scenario = generate(events, seed, start=start, bad_share=0)
    encounters, remittances = {}, {}
    for rec in scenario.records:
        if rec.topic is ENCOUNTERS:  # a corrected re-send replaces the earlier version
            enc = codec.decode_for(ENCOUNTERS, rec.value)
            encounters[enc["encounter_id"]] = enc
        elif rec.topic is REMITTANCES:
            rem = codec.decode_for(REMITTANCES, rec.value)
            remittances[rem["claim_id"]] = rem
    out = []
    for enc in encounters.values():
        rem = remittances.get("CLM-" + enc["encounter_id"])
        resources = encounter_resources(enc) + ([claim_response(rem)] if rem else [])
        out.append((enc, rem, bundle(resources, f"bundle-{enc['encounter_id']}")))
    return out


def main(argv=None) -> int:
    """python -m tests.support.fhir_samples DIR [--events N] [--seed S]: one Bundle file per encounter."""
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python -m tests.support.fhir_samples", description=main.__doc__)
    parser.add_argument("dir")
    parser.add_argument("--events", type=int, default=200, help="synthetic records to draw from")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    out = Path(args.dir)
    out.mkdir(parents=True, exist_ok=True)
    made = synthetic_bundles(args.events, args.seed)
    for enc, _, doc in made:
        (out / f"bundle-{enc['encounter_id']}.json").write_text(dumps(doc, indent=1))
    print(f"{len(made)} bundles written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
