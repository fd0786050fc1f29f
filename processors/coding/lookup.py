"""The ICD-10-CM code set as the pipeline asks about it: which release is in force on a date of
service, whether a code is valid or billable in it, its title, its conflicts with the patient's
age and sex, and the tabular list's notes (Excludes1, code first, 7th characters).

simple-icd-10-cm normalises the code on every call; the pipeline asks about the same few thousand
codes again and again, so each instance remembers its answers.
"""
from __future__ import annotations

import functools
from datetime import date as Date

from processors.coding import codeset, demographics, notes
from processors.coding.codeset import Release


class CodeSet:
    def __init__(self, icd, releases: tuple[Release, ...], cache_size: int = 65536):
        """`icd`: the simple_icd_10_cm module; `releases`: oldest first, the package's own first
        (processors.coding.releases.load)."""
        self._icd, self.releases = icd, releases
        self._base = releases[0]
        for name in ("is_valid", "is_billable", "dotted", "describe", "conflicts", "_excludes1",
                     "instruction_notes", "_seven_defs"):
            setattr(self, name, functools.lru_cache(maxsize=cache_size)(getattr(self, name)))

    # --- releases by date of service -------------------------------------------------------
    def release_for(self, day: Date | None) -> Release | None:
        """The release in force on `day` (the package's when no date is given); None before the
        first loaded release, and after the last one (the newest then codes it: CODE_SET_STALE)."""
        return self._base if day is None else codeset.in_force(self.releases, day)

    def _coding_release(self, day: Date | None) -> Release:
        if day is None:
            return self._base
        return self.release_for(day) or (self.releases[-1] if day > self.releases[-1].effective_to
                                          else self._base)

    def billable_on(self, code: str, day: Date | None) -> bool:
        """A billable code of the release that codes `day` (the newest one beyond the last)."""
        return self._coding_release(day).has(code)

    def valid_on(self, code: str, day: Date | None) -> bool:
        """A billable code or a category of the release that codes `day`."""
        r = self._coding_release(day)
        return r.has(code) or r.has_category(code)

    def is_known(self, code: str) -> bool:
        """Billable in some loaded release (a coder's decision is checked against its date later)."""
        return any(r.has(code) for r in self.releases)

    def not_in_release(self, code: str, day: Date | None) -> str | None:
        """Why `code` cannot be billed on `day`: its release and what became of it; None if it can."""
        r = self._coding_release(day)
        if r.has(code):
            return None
        shown = self.dotted(code)
        if r is not self._base and self._base.has(code):
            after = [self.dotted(c) for c in codeset.successors(code, r)]
            return (f"{shown} was deleted in {r} in force on {day}"
                    + (f": use {', '.join(after[:6])}{' ...' if len(after) > 6 else ''}" if after else ""))
        if self.is_known(code):
            return f"{shown} is not yet in {r} in force on {day}"
        return f"{shown} is not in {r}"

    # --- reference data -------------------------------------------------------------------
    def is_valid(self, code: str) -> bool:
        """A code or category of the current ICD-10-CM release, with or without the dot."""
        code = (code or "").strip().upper()
        # a block named like its one category (B20, Z66) is that category, and a code
        return bool(code) and self._icd.is_valid_item(code) and not self._icd.is_chapter(code) and (
            not self._icd.is_block(code) or self._icd.is_category(code))

    def is_billable(self, code: str) -> bool:
        return self.is_valid(code) and self._icd.is_leaf(code.strip().upper())

    def dotted(self, code: str) -> str:
        # ICD-10-CM's dot always follows the category's third character; simple-icd-10-cm's own
        # remove_dot/add_dot search the code set first and cost milliseconds a call.
        plain = code.strip().upper().replace(".", "")
        return plain if len(plain) <= 3 else f"{plain[:3]}.{plain[3:]}"

    def describe(self, code: str) -> str:
        if self.is_valid(code):
            return self._icd.get_description(code.strip().upper())
        return next((r.titles[codeset.plain(code)] for r in reversed(self.releases)
                     if codeset.plain(code) in r.titles), "")

    def conflicts(self, code: str, age: int | None, sex: str) -> list[tuple[str, str]]:
        return demographics.conflicts(self.dotted(code), self.describe(code), age, sex)

    # --- tabular notes ----------------------------------------------------------------------
    def _excludes1(self, code: str) -> tuple[tuple[str, str], ...]:
        return notes.excludes1(self._icd, self.dotted(code)) if self.is_valid(code) else ()

    def excludes1_conflicts(self, codes) -> list[tuple[str, str]]:
        """Pairs of the given codes that an Excludes1 note forbids together (in the given order)."""
        codes = [self.dotted(c) for c in codes]
        return [(a, b) for i, a in enumerate(codes) for b in codes[i + 1:]
                if a != b and (notes.covers(self._excludes1(a), b) or notes.covers(self._excludes1(b), a))]

    def instruction_notes(self, code: str) -> tuple[notes.Note, ...]:
        """"code first", "use additional code" and "code also" notes for a code and its ancestors."""
        return notes.instructions(self._icd, self.dotted(code)) if self.is_valid(code) else ()

    def _seven_defs(self, code: str) -> dict[str, str]:
        for item in notes.lineage(self._icd, code):
            defs = self._icd.get_seven_chr_def(item) if not self._icd.is_block(item) else {}
            if defs:
                return defs
        return {}
