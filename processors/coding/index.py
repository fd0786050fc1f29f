"""An inverted index over the billable ICD-10-CM codes' descriptions and inclusion terms.

Each entry keeps its required words, optional words (parenthesised nonessential modifiers,
defaults such as "primary" or "closed", trailing ", unspecified ..." clauses), negative words
("without ...", "not ...") and minor words (the second half of "A and B" titles, half weight).
A statement matches an entry by IDF-weighted overlap in both directions, so a short statement
prefers the least specific leaf ("Hyperlipidemia, unspecified") over a specific one.
"""
from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass

from processors.coding.normalise import NEGATORS, STOPWORDS, Tokens, apply_synonyms, stem

# Words whose absence in a statement means the default applies, so they cost nothing if missing.
DEFAULT_WORDS = frozenset(stem(w) for w in (
    "primary", "essential", "closed", "unspecified", "routine", "unidentified"))
_OPEN_CLAUSES = ("unspecified", "site not specified", "not elsewhere classified")
# Chapters that only apply when the statement says so (a UTI is not a pregnancy UTI by default).
CONTEXT = {
    "O": frozenset(stem(w) for w in (
        "pregnancy", "pregnant", "maternal", "gestational", "trimester", "obstetric", "antepartum",
        "postpartum", "puerperal", "puerperium", "labor", "delivery", "gravidarum", "abortion",
        "eclampsia", "childbirth", "gestation", "miscarriage", "ectopic")),
    "P": frozenset(stem(w) for w in (
        "newborn", "neonatal", "neonate", "perinatal", "fetal", "fetus", "preterm", "birth")),
}
# A title that needs one of these words is never chosen for a statement that lacks it.
GATED_WORDS = frozenset(stem(w) for w in ("congenital", "newborn", "neonatal", "maternal", "postprocedural"))
_CANDIDATE_DF_LIMIT = 4000
_OPTIONAL_CREDIT = 0.9
_MINOR_WEIGHT = 0.5
_UNMET_NEGATIVE_WEIGHT = 0.25


@dataclass(frozen=True)
class Entry:
    code: str
    text: str
    required: frozenset[str]
    optional: frozenset[str]
    negative: frozenset[str]
    minor: frozenset[str]
    specificity: int  # 2 unspecified in the title, 1 an "NOS" inclusion term, 0 otherwise


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.replace("'s", "").replace("'", ""))


def _clause_tokens(words: list[str], first: bool, into: dict[str, set[str]]) -> None:
    negating = after_and = False
    negated_words = 0
    for pos, word in enumerate(words):
        if word in ("with", "and"):
            negating = False
            # "Syncope and collapse": either half names the condition; "Other and unspecified
            # X" is not such a pair.
            after_and = after_and or (word == "and" and first and words[pos - 1:pos] != ["other"])
        elif word in NEGATORS:
            negating, negated_words = True, 0
        elif word == "of" and negating and negated_words >= 2:
            # "without foreign body of scalp": the site belongs to the condition again.
            negating = False
        elif word == "unspecified" and 0 < pos < len(words) - 1 and words[pos - 1] not in ("and", "or"):
            # "of unspecified ligament": the statement need not name the ligament.
            into["optional"].add(stem(words[pos + 1]))
        elif word not in STOPWORDS:
            token = stem(word)
            if negating:
                into["negative"].add(token)
                negated_words += 1
            elif token not in into["optional"]:
                into["required"].add(token)
                if after_and:
                    into["minor"].add(token)


def parse_term(code: str, text: str) -> Entry:
    """Split a tabular phrase into required, optional, negative and minor tokens."""
    plain = apply_synonyms(text)
    sets: dict[str, set[str]] = {"required": set(), "optional": set(), "negative": set(), "minor": set()}
    for inner in re.findall(r"[(\[]([^)\]]*)[)\]]", plain):
        sets["optional"].update(stem(w) for w in _words(inner))
    bare = re.sub(r"[(\[][^)\]]*[)\]]", " ", plain)
    for n, clause in enumerate(c.strip() for c in bare.split(",")):
        words = _words(clause)
        if n > 0 and clause.startswith("unspecified whether"):
            sets["negative"].update(stem(w) for w in words if w not in STOPWORDS)
        elif n > 0 and clause.startswith(_OPEN_CLAUSES):
            sets["optional"].update(stem(w) for w in words)
        else:
            _clause_tokens(words, n == 0, sets)
    defaults = sets["required"] & DEFAULT_WORDS
    lowered = text.lower()
    specificity = 2 if "unspecified" in lowered else 1 if lowered.endswith(" nos") else 0
    return Entry(code, text, frozenset(sets["required"] - defaults),
                 frozenset(sets["optional"] | defaults), frozenset(sets["negative"]),
                 frozenset(sets["minor"]), specificity)


class Index:
    def __init__(self, entries: list[Entry]):
        self.entries = entries
        postings: dict[str, list[int]] = defaultdict(list)
        for i, entry in enumerate(entries):
            for token in entry.required | entry.optional:
                postings[token].append(i)
        self.postings = dict(postings)
        n = len(entries)
        self.idf = {t: math.log(n / len(ids)) + 1.0 for t, ids in postings.items()}
        self.unknown_idf = math.log(n) + 1.0
        self.need = [self._need(e) for e in entries]

    def weight(self, token: str) -> float:
        return self.idf.get(token, self.unknown_idf)

    def candidates(self, query: Tokens) -> set[int]:
        known = [t for t in query.positive if t in self.postings]
        if not known:
            return set()
        selective = [t for t in known if len(self.postings[t]) <= _CANDIDATE_DF_LIMIT]
        if not selective:
            selective = [min(known, key=lambda t: len(self.postings[t]))]
        found: set[int] = set()
        for token in selective:
            found.update(self.postings[token])
        return found

    def score(self, query: Tokens, entry: Entry, i: int | None = None) -> float:
        w = self.weight
        total = sum(w(t) for t in query.positive) + sum(w(t) for t in query.negative)
        if not total:
            return 0.0
        required, optional, negative, minor = entry.required, entry.optional, entry.negative, entry.minor
        matched = conflict = got = 0.0
        for t in query.positive:
            if t in required:
                matched += w(t)
                got += w(t) * (_MINOR_WEIGHT if t in minor else 1.0)
            elif t in optional:
                matched += w(t) * _OPTIONAL_CREDIT
            elif t in negative:
                conflict += w(t)
        for t in query.negative:
            if t in negative:
                matched += w(t)
            elif t in required or t in optional:
                conflict += w(t)
        for t in query.implied:
            if t in required and t not in query.positive:
                got += w(t)
        query_cover = max(0.0, matched - conflict) / total
        need = self.need[i] if i is not None else self._need(entry)
        need -= sum(w(t) * _UNMET_NEGATIVE_WEIGHT for t in negative if t in query.negative)
        entry_cover = got / need if need else 1.0
        return query_cover ** 0.6 * entry_cover ** 0.4

    def _need(self, entry: Entry) -> float:
        """What an entry asks for: its required words (minor ones at half weight) and, at a
        quarter weight, the words it excludes, so a plain statement prefers fewer exclusions."""
        w = self.weight
        need = sum(w(t) * (_MINOR_WEIGHT if t in entry.minor else 1.0) for t in entry.required)
        return need + sum(w(t) * _UNMET_NEGATIVE_WEIGHT for t in entry.negative)

    def rank(self, query: Tokens, limit: int = 10) -> list[tuple[float, Entry]]:
        """Best entry per code, best first; ties go to the unspecified leaf, then the shorter text."""
        words = set(query.positive) | set(query.negative)
        best: dict[str, tuple[float, int, int, Entry]] = {}
        for i in self.candidates(query):
            entry = self.entries[i]
            context = CONTEXT.get(entry.code[0])
            if context and not (words & context):
                continue
            if entry.required & GATED_WORDS - words:
                continue
            key = (round(self.score(query, entry, i), 6), entry.specificity, -len(entry.text), entry)
            if entry.code not in best or key[:3] > best[entry.code][:3]:
                best[entry.code] = key
        ordered = sorted(best.values(), key=lambda k: (-k[0], -k[1], -k[2], k[3].code))
        return [(k[0], k[3]) for k in ordered[:limit]]


def build_index(icd) -> Index:
    """Index every billable leaf; `icd` is the simple_icd_10_cm module."""
    entries: list[Entry] = []
    for code in icd.get_all_codes(True):
        if icd.is_chapter_or_block(code) or not icd.is_leaf(code):
            continue
        entries.append(parse_term(code, icd.get_description(code)))
        entries.extend(parse_term(code, term) for term in icd.get_inclusion_term(code))
    return Index(entries)
