"""The tabular list's instructions for a code: Excludes1 pairs (never coded together) and the
"code first" / "use additional code" / "code also" notes.

A note written on a category or block applies to every code below it, so each code collects the
notes of its ancestors too. Notes name codes as "E11.-", "O24.4-", "P70.2" or ranges "O10-O11";
a reference covers a code when the code falls under it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_CODE = r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?"
_REFERENCE = re.compile(rf"({_CODE})(?:\s*-\s*({_CODE})|\.?-)?")
KINDS = ("code first", "use additional code", "code also")


@dataclass(frozen=True)
class Note:
    kind: str  # one of KINDS
    text: str  # as the tabular list words it
    on: str  # the code or category that carries it
    refs: tuple[tuple[str, str], ...]  # (low, high) plain-code ranges it names


def references(text: str) -> tuple[tuple[str, str], ...]:
    """Plain-code ranges named in a note: "E11.-" -> (E11, E11), "O10-O11" -> (O10, O11)."""
    found = []
    for group in re.findall(r"\(([^)]*)\)", text):
        for low, high in _REFERENCE.findall(group.upper()):
            found.append((low.replace(".", ""), (high or low).replace(".", "")))
    return tuple(found)


def covers(refs: tuple[tuple[str, str], ...], code: str) -> bool:
    plain = code.replace(".", "").upper()
    return any(low <= plain[:len(low)] and plain[:len(high)] <= high for low, high in refs)


def lineage(icd, code: str) -> list[str]:
    """The code and the categories and blocks above it, nearest first (chapters say little)."""
    return [code] + [a for a in icd.get_ancestors(code) if not icd.is_chapter(a)]


def excludes1(icd, code: str) -> tuple[tuple[str, str], ...]:
    refs: list[tuple[str, str]] = []
    for item in lineage(icd, code):
        for text in icd.get_excludes1(item):
            refs.extend(references(text))
    return tuple(refs)


def instructions(icd, code: str) -> tuple[Note, ...]:
    notes = []
    for item in lineage(icd, code):
        for kind, getter in zip(KINDS, (icd.get_code_first, icd.get_use_additional_code,
                                        icd.get_code_also), strict=True):
            text = (getter(item) or "").strip()
            if text:
                notes.append(Note(kind, " ".join(text.split()), item, references(text)))
    return tuple(notes)
