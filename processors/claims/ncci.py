"""NCCI tables: procedure-to-procedure (PTP) pairs and medically unlikely edits (MUE), by date.

The loaders read the CMS file layouts as published (tab-delimited .txt or CSV, copyright and
header lines above the rows; CMS splits the PTP table over several files, so they take several
paths). A deployment points RCM_NCCI_PTP / RCM_NCCI_MUE at its CMS files; the edge reads the
settings and passes the paths in. The packaged tables are small synthetic samples.
"""
from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"
SAMPLE_PTP = DATA / "ncci_ptp_sample.csv"
SAMPLE_MUE = DATA / "mue_sample.csv"

# NCCI-associated modifiers that bypass an indicator-1 pair. 24, 25 and 57 only mean something on
# an evaluation and management code, so they count only when the pair has one.
BYPASS_MODIFIERS = frozenset({
    "59", "XE", "XP", "XS", "XU", "24", "25", "27", "57", "58", "78", "79", "91",
    "E1", "E2", "E3", "E4", "FA", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9",
    "LC", "LD", "LM", "LT", "RC", "RI", "RT",
    "TA", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9",
})
EM_ONLY_MODIFIERS = frozenset({"24", "25", "57"})
_CODE = re.compile(r"^(\d{5}|[A-Z]\d{4}|\d{4}[A-Z])$")  # HCPCS/CPT shapes
_YMD = re.compile(r"^\d{8}$")


def is_evaluation_and_management(code: str) -> bool:
    return code.isdigit() and "99202" <= code <= "99499"


def pair_modifiers(code: str, modifiers: Iterable[str]) -> list[str]:
    """The modifiers on a line that can bypass a pair: 24, 25 and 57 only on an E/M code."""
    em = is_evaluation_and_management(code)
    return [m for m in modifiers if m in BYPASS_MODIFIERS and (em or m not in EM_ONLY_MODIFIERS)]


@dataclass(frozen=True)
class PtpEdit:
    column1: str
    column2: str
    effective: date
    deleted: date | None  # first day the pair no longer applies
    modifier_indicator: str  # "0" never bypassed, "1" bypassed by a modifier, "9" not applicable
    rationale: str
    pre_1996: bool = False

    def active_on(self, day: date) -> bool:
        return (self.modifier_indicator != "9" and self.effective <= day
                and (self.deleted is None or day < self.deleted))

    def bypassed_by(self, modifiers: Iterable[str]) -> bool:
        if self.modifier_indicator != "1":
            return False
        em = any(map(is_evaluation_and_management, (self.column1, self.column2)))
        return any(m in BYPASS_MODIFIERS and (em or m not in EM_ONLY_MODIFIERS) for m in modifiers)


class PtpEdits:
    def __init__(self, edits: Iterable[PtpEdit]):
        self._pairs: dict[tuple[str, str], list[PtpEdit]] = defaultdict(list)
        for edit in edits:
            self._pairs[edit.column1, edit.column2].append(edit)

    def __len__(self) -> int:
        return sum(map(len, self._pairs.values()))

    def conflicts(self, code1: str, code2: str, day: date,
                  modifiers: Iterable[str] = ()) -> PtpEdit | None:
        """The edit that stops column-1 `code1` and column-2 `code2` being billed together on `day`,
        given the modifiers on either line; None when they may be."""
        mods = tuple(modifiers)
        for edit in self._pairs.get((code1, code2), ()):
            if edit.active_on(day) and not edit.bypassed_by(mods):
                return edit
        return None


@dataclass(frozen=True)
class MueEntry:
    code: str
    units: int
    indicator: str  # MAI: "1" claim line; "2" and "3" date of service (policy, clinical)
    rationale: str

    @property
    def per_date(self) -> bool:
        # Files without an MAI (the Medicaid ones) are adjudicated per line.
        return self.indicator in ("2", "3")


class Mue:
    """MUE tables by the date each took effect; a service date uses the newest table in force."""

    def __init__(self, versions: Iterable[tuple[date, Mapping[str, MueEntry]]]):
        self._versions = sorted(versions, key=lambda v: v[0], reverse=True)

    def combined(self, other: Mue) -> Mue:
        return Mue([*self._versions, *other._versions])

    def entry(self, code: str, day: date) -> MueEntry | None:
        for effective, table in self._versions:
            if effective <= day:
                return table.get(code)
        return None

    def limit(self, code: str, day: date) -> int | None:
        entry = self.entry(code, day)
        return entry.units if entry else None


def _rows(path: str | Path) -> Iterable[tuple[int, list[str]]]:
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # the CMS text files
    delimiter = "\t" if "\t" in text else ","
    for n, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
        cells = [c.strip() for c in row]
        # Copyright notes, header lines (some span two rows) and comments do not start with a code.
        if cells and _CODE.match(cells[0].upper()):
            yield n, cells


def _ymd(cell: str) -> date:
    return datetime.strptime(cell, "%Y%m%d").date()


def _ptp_edit(cells: list[str]) -> PtpEdit:
    c1, c2, pre, eff, deleted, indicator, *rest = cells + [""] * (7 - len(cells))
    if not (_CODE.match(c2.upper()) and _YMD.match(eff) and indicator in ("0", "1", "9")
            and (deleted in ("*", "") or _YMD.match(deleted))):
        raise ValueError("not a PTP row")
    return PtpEdit(c1.upper(), c2.upper(), _ymd(eff), _ymd(deleted) if deleted.isdigit() else None,
                   indicator, rest[0] if rest else "", pre == "*")


def load_ptp(*paths: str | Path) -> PtpEdits:
    """PTP edits from CMS files (all parts of a table: CMS splits it by code range)."""
    edits = []
    for path in paths:
        for n, cells in _rows(path):
            try:
                edits.append(_ptp_edit(cells))
            except ValueError as e:
                raise ValueError(f"{path}:{n}: not an NCCI PTP row: {cells}") from e
    if not edits:
        raise ValueError(f"no NCCI PTP rows in {', '.join(map(str, paths))}")
    return PtpEdits(edits)


def load_mue(*paths: str | Path, effective: date = date.min) -> Mue:
    """One MUE table (CMS: a quarter's file) in force from `effective`; combine quarters with
    `Mue.combined`."""
    table: dict[str, MueEntry] = {}
    for path in paths:
        for n, cells in _rows(path):
            code, units, indicator, rationale, *_ = cells + [""] * (4 - len(cells))
            if not units.isdigit():
                raise ValueError(f"{path}:{n}: not an MUE row: {cells}")
            mai = indicator[:1] if indicator[:1] in ("1", "2", "3") else ""
            table[code.upper()] = MueEntry(code.upper(), int(units), mai, rationale)
    if not table:
        raise ValueError(f"no MUE rows in {', '.join(map(str, paths))}")
    return Mue([(effective, table)])


@lru_cache(maxsize=1)
def sample_ptp() -> PtpEdits:
    return load_ptp(SAMPLE_PTP)


@lru_cache(maxsize=1)
def sample_mue() -> Mue:
    return load_mue(SAMPLE_MUE)
