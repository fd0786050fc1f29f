"""The first automatic coder: clinician statement -> one billable ICD-10-CM code and a confidence.

simple-icd-10-cm takes seconds to load and the index a few more, so both are built once per
process and shared by every Coder. Ranked candidates are cached per normalised statement (the
same statements recur across encounters); the patient filter runs after the cache.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from processors.coding import demographics
from processors.coding.index import Index, build_index
from processors.coding.normalise import (
    Tokens,
    expand,
    is_generic,
    is_negated,
    is_uncertain,
    tokens_of,
)

_UNCERTAINTY_WORDS = re.compile(
    r"\b(rule out|r/o|suspected|suspect|possible|possibly|probable|probably|likely|questionable|"
    r"presumed|cannot exclude|concern for)\b|\?")
UNCERTAIN_CAP = 0.5


@dataclass(frozen=True)
class Suggestion:
    code: str | None
    confidence: float
    evidence: str
    reason: str


@functools.cache
def _load() -> tuple[object, Index]:
    import simple_icd_10_cm as icd  # ~2 s and ~200 MB: once per process, and only when coding

    return icd, build_index(icd)


class Coder:
    def __init__(self, cache_size: int = 65536):
        self._icd, self._index = _load()
        self._ranked = functools.lru_cache(maxsize=cache_size)(self._rank)
        # simple-icd-10-cm normalises the code on every call; the pipeline asks about the same few
        # thousand codes again and again, so remember the answers per instance.
        for name in ("is_valid", "is_billable", "dotted", "describe", "conflicts", "code"):
            setattr(self, name, functools.lru_cache(maxsize=cache_size)(getattr(self, name)))

    # --- reference data -------------------------------------------------------------------
    def is_valid(self, code: str) -> bool:
        """A code or category of the current ICD-10-CM release, with or without the dot."""
        code = (code or "").strip().upper()
        return bool(code) and self._icd.is_valid_item(code) and not self._icd.is_chapter_or_block(code)

    def is_billable(self, code: str) -> bool:
        return self.is_valid(code) and self._icd.is_leaf(code.strip().upper())

    def dotted(self, code: str) -> str:
        # ICD-10-CM's dot always follows the category's third character; simple-icd-10-cm's own
        # remove_dot/add_dot search the code set first and cost milliseconds a call.
        plain = code.strip().upper().replace(".", "")
        return plain if len(plain) <= 3 else f"{plain[:3]}.{plain[3:]}"

    def describe(self, code: str) -> str:
        return self._icd.get_description(code.strip().upper()) if self.is_valid(code) else ""

    def conflicts(self, code: str, age: int | None, sex: str) -> list[tuple[str, str]]:
        return demographics.conflicts(self.dotted(code), self.describe(code), age, sex)

    # --- coding ---------------------------------------------------------------------------
    def _rank(self, query: Tokens) -> tuple[tuple[float, str, str], ...]:
        return tuple((score, e.code, e.text) for score, e in self._index.rank(query))

    def code(self, text: str, age: int | None = None, sex: str = "U") -> Suggestion:
        text = (text or "").strip()
        if is_negated(text):
            return Suggestion(None, 0.0, text, "negated: the statement rules the condition out")
        uncertain = is_uncertain(text)
        query = tokens_of(expand(_UNCERTAINTY_WORDS.sub(" ", text) if uncertain else text))
        if is_generic(query):
            return Suggestion(None, 0.0, text, "too vague to code: no clinical condition named")
        implied = {"M": ("male",), "F": ("female",)}.get(sex, ())
        key = Tokens(tuple(sorted(query.positive)), tuple(sorted(query.negative)),
                     tuple(sorted(set(query.implied) | set(implied))))
        ranked = self._ranked(key)
        for score, code, title in ranked:
            if not self.conflicts(code, age, sex):
                break
        else:
            if ranked:
                _, code, _ = ranked[0]
                why = self.conflicts(code, age, sex)[0][1]
                return Suggestion(None, 0.0, text, f"best match does not fit the patient: {why}")
            return Suggestion(None, 0.0, text, "too vague to code: no ICD-10-CM title matches")
        if uncertain:
            return Suggestion(code, min(score, UNCERTAIN_CAP), text,
                              f"uncertain diagnosis: outpatient rules code the symptoms, not the "
                              f"suspected condition (suggest {code} '{title}')")
        return Suggestion(code, round(score, 4), text, f"matched {code} '{title}'")
