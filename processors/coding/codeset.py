"""ICD-10-CM releases by date of service, and CDC's release files read from their text.

A release is the set of billable codes in force from one date to another (FY2026: 2025-10-01 to
2026-09-30; FY2027 from 2026-10-01; an April update from April 1), with titles and inclusion
terms where its source gives them. The release in force on a date is the newest one that started
on or before it and has not ended. Pure: the standard library only; the loaders in
processors.coding.releases read the files and the packages and pass the text in.

CDC's layouts, as read here:
  order file   fixed width: order number (1-5), code without the dot (7-13), 1 when billable and
               0 for a header (15), short title (17-76), long title (78-)
  tabular XML  <diag><name>A00.0</name><desc>...</desc><inclusionTerm><note>...</note>...</diag>,
               nested; a <diag> with no <diag> inside it is a billable code
  addenda      order-file lines after "Add:", "Delete:", "Revise from:" or "Revise to:"
"""
from __future__ import annotations

import bisect
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property


@dataclass(frozen=True, eq=False)
class Release:
    name: str                      # "FY2027", "FY2026 April"
    effective_from: date
    effective_to: date             # the last date its source covers
    billable: frozenset[str]       # codes without the dot
    source: str                    # where it was loaded from, for the README and the edits
    titles: Mapping[str, str] = field(default_factory=dict)            # plain code -> title
    terms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # inclusion terms

    def covers(self, day: date) -> bool:
        return self.effective_from <= day <= self.effective_to

    def has(self, code: str) -> bool:
        return plain(code) in self.billable

    def has_category(self, code: str) -> bool:
        """A category or subcategory: the start of a billable code, three characters or more."""
        return plain(code) in self.categories

    @cached_property
    def ordered(self) -> tuple[str, ...]:
        """The billable codes, sorted: the codes starting with a prefix are one slice of it."""
        return tuple(sorted(self.billable))

    @cached_property
    def categories(self) -> frozenset[str]:
        return frozenset(c[:n] for c in self.billable for n in range(3, len(c))) - self.billable

    def __str__(self) -> str:
        return f"ICD-10-CM {self.name} ({self.effective_from}..{self.effective_to})"


def plain(code: str) -> str:
    return (code or "").strip().upper().replace(".", "")


def fiscal_year_start(year: int) -> date:
    """FY2027 starts on 2026-10-01."""
    return date(year - 1, 10, 1)


def in_force(releases: Iterable[Release], day: date) -> Release | None:
    """The release in force on `day`: the latest start among those covering it."""
    covering = [r for r in releases if r.covers(day)]
    return max(covering, key=lambda r: r.effective_from) if covering else None


def changes(before: Release, after: Release) -> tuple[frozenset[str], frozenset[str]]:
    """(codes new in `after`, codes `after` deleted) against the release before it."""
    return after.billable - before.billable, before.billable - after.billable


def successors(code: str, release: Release) -> list[str]:
    """Codes of `release` that start with a code it no longer has (M72.2 -> M72.20, M72.21...)."""
    p = plain(code)
    codes = release.ordered
    out = []
    for c in codes[bisect.bisect_right(codes, p):]:
        if not c.startswith(p):
            break
        out.append(c)
    return out


# --- CDC files -------------------------------------------------------------------------------
def parse_order(text: str) -> dict[str, tuple[bool, str]]:
    """Order file -> {plain code: (billable, long title)}."""
    out = {}
    for line in text.splitlines():
        if len(line) < 16 or not line[:5].strip().isdigit():
            continue
        code = line[6:13].strip()
        long_title = line[77:].strip() or line[16:76].strip()
        out[code] = (line[14] == "1", long_title)
    return out


_ADDENDA = re.compile(r"^\s*(Add|Delete|Revise from|Revise to):\s?(.*)$", re.IGNORECASE)


def parse_addenda(text: str) -> dict[str, list[tuple[str, bool, str]]]:
    """Addenda -> {"add"|"delete"|"revise from"|"revise to": [(plain code, billable, title)]}. The
    order-file record after the label is read by its fields (order, code, flag, titles)."""
    out: dict[str, list[tuple[str, bool, str]]] = {}
    for line in text.splitlines():
        found = _ADDENDA.match(line)
        if not found:
            continue
        record = re.match(r"\s*\d{5}\s+([A-Z0-9]{3,7})\s+([01])\s+(.*)$", found.group(2))
        if not record:
            continue
        rest = record.group(3).rstrip()
        title = rest[61:].strip() if len(rest) > 61 else rest.strip()  # the long title when both
        out.setdefault(found.group(1).lower(), []).append(
            (record.group(1), record.group(2) == "1", title))
    return out


def parse_tabular(text: str) -> tuple[dict[str, str], dict[str, tuple[str, ...]], frozenset[str]]:
    """Tabular XML -> (titles, inclusion terms, billable codes), codes without the dot."""
    root = ET.fromstring(text)
    titles: dict[str, str] = {}
    terms: dict[str, tuple[str, ...]] = {}
    billable = set()
    for diag in root.iter("diag"):
        code = plain(diag.findtext("name") or "")
        if not code:
            continue
        titles[code] = (diag.findtext("desc") or "").strip()
        notes = tuple((n.text or "").strip() for inc in diag.findall("inclusionTerm")
                      for n in inc.findall("note") if (n.text or "").strip())
        if notes:
            terms[code] = notes
        if diag.find("diag") is None:
            billable.add(code)
    return titles, terms, frozenset(billable)


_FILE_YEAR = re.compile(r"icd10cm[-_ ].*?(april[-_ ])?(\d{4})", re.IGNORECASE)


def release_of_file(name: str) -> tuple[int, bool] | None:
    """(fiscal year, April update) from a CDC file name: icd10cm-order-2027.txt,
    icd10cm_tabular_2027.xml, icd10cm-order-April-2026.txt."""
    found = _FILE_YEAR.search(name)
    return (int(found.group(2)), bool(found.group(1))) if found else None


def release_period(year: int, april: bool) -> tuple[str, date, date]:
    """Name and dates of a CDC release: FY2027 from 2026-10-01 to 2027-09-30 (to 2027-03-31 when
    an April update follows it, which the loader decides), an April update from April 1."""
    if april:
        return f"FY{year} April", date(year, 4, 1), date(year, 9, 30)
    return f"FY{year}", fiscal_year_start(year), date(year, 9, 30)
