"""Build a claim from a coded encounter and scrub it: CLEAN, or HELD with every edit it failed.

Pure function over decoded records. Diagnosis checks reach simple-icd-10-cm through the Coder;
item sex checks use the charge master when the caller passes it.
"""
from __future__ import annotations

from processors.chargemaster import ChargeItem

MAX_POINTERS = 4
PROFESSIONAL_CLASSES = frozenset({"OFFICE"})


def _edit(edit: str, message: str, line: int | None = None) -> dict:
    return {"edit": edit, "message": message, "line": line}


def _diagnosis_edits(coded: dict, codes: list[str], coder) -> list[dict]:
    if not codes:
        return [_edit("MISSING_DIAGNOSIS", "the claim has no diagnosis code")]
    edits = []
    for n, code in enumerate(codes, start=1):
        if not coder.is_valid(code):
            edits.append(_edit("INVALID_CODE", f"diagnosis {n}: {code} is not an ICD-10-CM code"))
        elif not coder.is_billable(code):
            edits.append(_edit("NOT_BILLABLE", f"diagnosis {n}: {code} is a category, not a billable code"))
        else:
            edits.extend(_edit(e, f"diagnosis {n}: {m}")
                         for e, m in coder.conflicts(code, coded["patient_age"], coded["patient_sex"]))
    return edits


def _line_edits(lines: list[dict], sex: str, charge_master: dict[str, ChargeItem] | None,
                charge_codes: dict[int, str]) -> list[dict]:
    edits = []
    seen: dict[tuple, int] = {}
    for line in lines:
        n = line["line"]
        key = (line["procedure_code"] or f"rev {line['revenue_code']}", tuple(line["modifiers"]),
               line["service_date"])
        if key in seen:
            what = " ".join([key[0], *key[1]])
            edits.append(_edit("DUPLICATE_LINE", f"line {n} repeats line {seen[key]} ({what} on {key[2]})", n))
        seen.setdefault(key, n)
        if line["charge_cents"] == 0:
            edits.append(_edit("ZERO_CHARGE", f"line {n} has a zero charge", n))
        item = (charge_master or {}).get(charge_codes.get(n, ""))
        if item and item.sex and sex in ("F", "M") and item.sex != sex:
            edits.append(_edit("SEX_CONFLICT", f"line {n}: {item.description} is for sex "
                               f"{item.sex} only; patient is {sex}", n))
    return edits


def build_claim(coded: dict, coder, charge_master: dict[str, ChargeItem] | None = None) -> dict:
    """ClaimBuilt for an EncounterCoded record."""
    codes: list[str] = []
    for dx in sorted(coded["diagnoses"], key=lambda d: d["sequence"]):
        if dx["code"] not in codes:
            codes.append(dx["code"])
    pointers = list(range(1, min(len(codes), MAX_POINTERS) + 1))
    lines = [{"line": p["line"], "procedure_code": p["procedure_code"],
              "modifiers": list(p["modifiers"]), "revenue_code": p["revenue_code"],
              "units": p["units"], "charge_cents": p["charge_cents"],
              "service_date": p["service_date"], "diagnosis_pointers": list(pointers)}
             for p in coded["procedures"]]
    charge_codes = {p["line"]: p["charge_code"] for p in coded["procedures"]}
    edits = _diagnosis_edits(coded, codes, coder)
    edits += _line_edits(lines, coded["patient_sex"], charge_master, charge_codes)
    return {
        "event_id": f"{coded['source_event_id']}:claim",
        "source_event_id": coded["source_event_id"],
        "source_emitted_at": coded["source_emitted_at"],
        "claim_id": "CLM-" + coded["encounter_id"],
        "encounter_id": coded["encounter_id"], "account_id": coded["account_id"],
        "occurred_at": coded["occurred_at"],
        "claim_type": "PROFESSIONAL" if coded["encounter_class"] in PROFESSIONAL_CLASSES else "INSTITUTIONAL",
        "payer_id": coded["payer_id"], "plan_type": coded["plan_type"],
        "billing_provider_npi": coded["provider_npi"], "facility_id": coded["facility_id"],
        "service_start": coded["service_start"], "service_end": coded["service_end"],
        "diagnosis_codes": codes, "lines": lines,
        "total_charge_cents": sum(line["charge_cents"] for line in lines),
        "status": "HELD" if edits else "CLEAN",
        "edits": edits,
    }
