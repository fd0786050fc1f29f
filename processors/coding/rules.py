"""Coding rules: validate an encounter, then code it or send it to coding review.

Pure functions over decoded records (dicts); the batch loop decodes, calls these and sends.
Imports only the standard library, schemas and the coding helpers (simple-icd-10-cm is reached
through the Coder).
"""
from __future__ import annotations

from processors.coding import drg as msdrg_adapter
from processors.coding import em as em_levels
from processors.coding.coder import Coder, Suggestion
from schemas.accounts import account_id_fault

__all__ = ["Coder", "Suggestion", "charge_cents", "code_encounter", "coded_record",
           "date_of_service", "unmapped", "validate_encounter"]

MAX_AGE = 125


def charge_cents(line: dict) -> int:
    return int(line["units"]) * int(line["unit_price_cents"])


# Readable names for the code systems sources send most (FHIR URIs, HL7 v2 table 0396).
SYSTEM_NAMES = {"http://snomed.info/sct": "SNOMED CT", "SCT": "SNOMED CT",
                "http://www.ama-assn.org/go/cpt": "CPT", "C4": "CPT", "CPT": "CPT",
                "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets": "HCPCS",
                "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets": "HCPCS", "HCPCS": "HCPCS",
                "http://hl7.org/fhir/sid/cvx": "CVX", "CVX": "CVX",
                "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm", "RXNORM": "RxNorm",
                "http://hl7.org/fhir/sid/ndc": "NDC", "NDC": "NDC"}


def unmapped(line: dict, charge_master: dict) -> str | None:
    """How a line whose code the charge master lacks was sent (`SNOMED CT 410620009 'Well child
    visit (procedure)'`), for a coder to give it a code; None for a charge-master line, and for a
    line that came with neither code nor description (nothing a coder could work from)."""
    src = line.get("source_code")
    if line["charge_code"] in charge_master or not src:
        return None
    code, text = (src.get("code") or "").strip(), (src.get("text") or "").strip()
    if not code and not text:
        return None
    system = (src.get("system") or "").strip()
    what = " ".join(x for x in (SYSTEM_NAMES.get(system, system) if code else "", code) if x)
    return " ".join(x for x in (what, f"'{text[:80]}'" if text else "") if x)


def _unmapped_reasons(enc: dict, charge_master: dict) -> list[str]:
    return [f"charge line {line['line']}: {what} is not in the charge master: give the line a "
            "charge-master or CPT/HCPCS code"
            for line in enc["charges"] if (what := unmapped(line, charge_master))]


def validate_encounter(enc: dict, charge_master: dict, coder: Coder) -> list[str]:
    """Why this encounter cannot be accepted at all (dead letter); empty when it is valid."""
    problems: list[str] = []
    if fault := account_id_fault(enc["account_id"]):
        problems.append(fault)  # the id itself is PHI: never in reasons
    if not 0 <= enc["patient_age"] <= MAX_AGE:
        problems.append(f"patient age {enc['patient_age']} is outside 0..{MAX_AGE}")
    if enc["service_end"] < enc["service_start"]:
        problems.append(f"service_end {enc['service_end']} is before service_start {enc['service_start']}")
    if not enc["charges"]:
        problems.append("the encounter has no charge lines")
    for line in enc["charges"]:
        where = f"charge line {line['line']}"
        foreign = unmapped(line, charge_master)
        if line["charge_code"] not in charge_master and not foreign:
            problems.append(f"{where}: charge code {line['charge_code']} is not in the charge master"
                            if line["charge_code"] and not line.get("source_code") else
                            f"{where}: no charge-master code, and no code or description as sent")
        if line["units"] <= 0:
            problems.append(f"{where}: units {line['units']} must be positive")
        if line["unit_price_cents"] < 0 or (foreign and line["unit_price_cents"] == 0):
            problems.append(f"{where}: unit price {line['unit_price_cents']} cents "
                            + ("is negative" if line["unit_price_cents"] < 0 else
                               "is not positive (a line the charge master lacks bills at its price "
                               "as sent)"))
    for dx in enc["diagnoses"]:
        if dx.get("code") and not (coder.is_valid(dx["code"]) or coder.is_known(dx["code"])
                                   or coder.valid_on(dx["code"], date_of_service(enc))):
            problems.append(f"dx {dx['sequence']}: code {dx['code']!r} is not an ICD-10-CM code")
    for px in enc.get("procedures_pcs") or []:
        why = msdrg_adapter.pcs_problem(px["code"], enc["service_end"])
        if why:
            problems.append(f"pcs {px['sequence']}: code {px['code']!r} {why}")
    problems += em_levels.em_problems(enc["encounter_class"], enc.get("em"))
    return problems


def date_of_service(enc: dict):
    """The date whose ICD-10-CM release codes the encounter: a stay's discharge, else its start
    (as the claim edits take it, processors.claims.rules)."""
    return enc["service_end"] if enc["encounter_class"] == "INPATIENT" else enc["service_start"]


def _suggest(dx: dict, enc: dict, coder: Coder) -> Suggestion:
    given = (dx.get("code") or "").strip()
    day = date_of_service(enc)
    if not given:
        return coder.code(dx["text"], enc["patient_age"], enc["patient_sex"], date=day)
    if coder.billable_on(given, day):
        return Suggestion(coder.dotted(given), 1.0, dx["text"] or given, "given by the source")
    if coder.is_known(given) and (why := coder.not_in_release(given, day)):  # deleted, or not yet
        return Suggestion(None, 0.0, dx["text"] or given, f"given code {why}")
    return Suggestion(None, 0.0, dx["text"] or given,
                      f"given code {given} is not billable (a category with subcodes)")


def _review_reason(seq: int, text: str, s: Suggestion, threshold: float) -> str:
    best = f"(best {s.confidence:.3f} < {threshold:.2f})"
    if s.reason.startswith(("uncertain", "given code", "best match", "history",
                            "family history", "status", "personal history", "episode of care",
                            "combination")):
        return f"dx {seq}: '{text}' {s.reason} {best}"
    if s.code is None or s.reason.startswith("too vague"):
        return f"dx {seq}: '{text}' too vague to code {best}"
    return f"dx {seq}: '{text}' low confidence for {s.code} {best}"


def _tabular_reasons(codes: list[str], coder: Coder) -> list[str]:
    """The tabular list's rules a coder must settle: Excludes1 pairs, and a 'code first' note whose
    underlying condition is on the encounter but sequenced after it. (Such a note only binds when
    the underlying condition is documented; 'use additional code' notes are advice.)"""
    from processors.coding.notes import covers

    reasons = [f"{a} and {b} are an Excludes1 pair: code only one"
               for a, b in coder.excludes1_conflicts(codes)]
    for i, code in enumerate(codes):
        for note in coder.instruction_notes(code):
            if note.kind != "code first":
                continue
            later = [other for other in codes[i + 1:] if covers(note.refs, other)]
            if later:
                reasons.append(f"{code}: code first {later[0]} (tabular 'code first' note)")
    return reasons


def _procedures(enc: dict, charge_master: dict) -> list[dict]:
    """The billed lines. A line the charge master lacks has no codes yet (empty procedure and
    revenue code): a coder's decision gives them before the encounter is released."""
    procedures = []
    for line in enc["charges"]:
        item = charge_master.get(line["charge_code"])
        procedures.append({
            "line": line["line"], "charge_code": item.charge_code if item else "",
            "procedure_code": item.procedure_code if item else "",
            "modifiers": list(item.modifiers) if item else [],
            "revenue_code": item.revenue_code if item else "", "units": line["units"],
            "charge_cents": charge_cents(line), "service_date": line["service_date"],
        })
    return procedures


def _em_reasons(enc: dict, charge_master: dict) -> list[str]:
    """Billed E/M lines that the documented E/M fields do not support (office and ED visits)."""
    billed = [(line["line"], charge_master[line["charge_code"]].procedure_code)
              for line in enc["charges"] if line["charge_code"] in charge_master]
    return em_levels.review_reasons(enc["encounter_class"], enc.get("em"), billed)


def _pcs(enc: dict) -> list[dict]:
    return [{"sequence": p["sequence"], "code": p["code"]}
            for p in sorted(enc.get("procedures_pcs") or [], key=lambda p: p["sequence"])]


def _inpatient(enc: dict, codes: list[str]) -> tuple[dict | None, list[str]]:
    """The MS-DRG of a stay, and the Medicare Code Editor findings a coder must fix first."""
    args = (codes[0], codes[1:], [p["code"] for p in _pcs(enc)], enc["patient_age"],
            enc["patient_sex"], enc.get("discharge_status"), enc["service_end"])
    reasons = msdrg_adapter.mce_edits(*args)
    drg = msdrg_adapter.group(*args)
    if drg is None or drg["drg"] in msdrg_adapter.UNGROUPABLE:
        found = f"DRG {drg['drg']} ({drg['description']})" if drg else "no DRG"
        reasons.append(f"the stay does not group: {found}")
    return drg, reasons


def _header(enc: dict, suffix: str) -> dict:
    return {"event_id": f"{enc['event_id']}:{suffix}", "source_event_id": enc["event_id"],
            "source_emitted_at": enc["emitted_at"], "encounter_id": enc["encounter_id"],
            "account_id": enc["account_id"], "occurred_at": enc["occurred_at"],
            "payer_id": enc["payer_id"], "encounter_class": enc["encounter_class"]}


def code_encounter(enc: dict, charge_master: dict, coder: Coder,
                   threshold: float) -> tuple[str, dict]:
    """("coded", EncounterCoded) when every statement codes at or above threshold, else
    ("review", CodingReviewRequested). Negated statements are dropped; the encounter must be valid."""
    problems = validate_encounter(enc, charge_master, coder)
    if problems:
        raise ValueError("; ".join(problems))
    coded: list[dict] = []
    reasons: list[str] = []
    suggestions: list[dict] = []
    for dx in sorted(enc["diagnoses"], key=lambda d: d["sequence"]):
        s = _suggest(dx, enc, coder)
        negated = s.reason.startswith("negated")
        suggestions.append({"sequence": dx["sequence"], "text": dx["text"],
                            "code": None if negated else s.code, "confidence": s.confidence,
                            "also": [] if negated or not s.code else list(s.also)})
        if negated:  # nothing to bill: the suggestion is no code
            continue
        if s.code is None or s.confidence < threshold:
            reasons.append(_review_reason(dx["sequence"], dx["text"], s, threshold))
        else:
            for code in (s.code, *s.also):  # `also`: a status (CAD s/p CABG) or a paired code (N18.31)
                if code not in {c["code"] for c in coded}:
                    coded.append({"sequence": len(coded) + 1, "code": code,
                                  "confidence": s.confidence, "evidence": s.evidence})
    if not coded and not reasons:
        reasons.append("no codable diagnosis statement")
    reasons += _tabular_reasons([c["code"] for c in coded], coder)
    reasons += _em_reasons(enc, charge_master)
    reasons += _unmapped_reasons(enc, charge_master)
    drg = None
    if enc["encounter_class"] == "INPATIENT" and coded and not reasons:
        drg, drg_reasons = _inpatient(enc, [c["code"] for c in coded])
        reasons += drg_reasons
    if reasons:
        review = _header(enc, "review")
        review.update(total_charge_cents=sum(charge_cents(c) for c in enc["charges"]),
                      reasons=reasons, suggestions=suggestions, patient_age=enc["patient_age"],
                      patient_sex=enc["patient_sex"], date_of_service=date_of_service(enc))
        return "review", review
    return "coded", coded_record(enc, coded, charge_master, drg)


def coded_record(enc: dict, coded: list[dict], charge_master: dict, drg: dict | None) -> dict:
    """The EncounterCoded for `enc` with these diagnoses (automatic, or a coder's decision).

    Its event id is the encounter event's id + ":coded" whoever chose the codes, so an encounter
    yields at most one coded record however often it is redelivered or released."""
    result = _header(enc, "coded")
    result.update({k: enc[k] for k in ("patient_age", "patient_sex", "plan_type", "provider_npi",
                                       "facility_id", "service_start", "service_end")})
    result.update(diagnoses=coded, procedures=_procedures(enc, charge_master),
                  procedures_pcs=_pcs(enc) if enc["encounter_class"] == "INPATIENT" else [],
                  drg=drg, secondary_payer_id=enc.get("secondary_payer_id"),
                  cancelled=bool(enc.get("cancelled")))
    return result
