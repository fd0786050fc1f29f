"""The fast Index.rank must return exactly what the plain per-candidate scan returned.

`Reference` is the ranking as it was before the speed-up (a straightforward loop that scores
every candidate), kept here as the oracle. Both rank the same Entry objects, so any difference in
score, code, chosen title or order fails.
"""
from __future__ import annotations

import heapq
import math
import random
from collections import defaultdict

import pytest

from processors.coding.coder import _load, query_key
from processors.coding.context import read_context
from processors.coding.index import (
    _CANDIDATE_DF_LIMIT,
    _MINOR_WEIGHT,
    _OPTIONAL_CREDIT,
    _UNMET_NEGATIVE_WEIGHT,
    CONTEXT,
    GATED_WORDS,
    Entry,
)
from processors.coding.normalise import Tokens
from producers.phrases import PHRASES, VAGUE


class Reference:
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

    def score(self, query: Tokens, entry: Entry, i: int, total: float, w) -> float:
        """`total` (the query's own weight) and `w` (its tokens' weights) are the query's: rank
        works them out once for all the candidates (the same sums, so the same floats)."""
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
        need = self.need[i]
        need -= sum(w(t) * _UNMET_NEGATIVE_WEIGHT for t in negative if t in query.negative)
        entry_cover = got / need if need else 1.0
        return query_cover ** 0.6 * entry_cover ** 0.4

    def total(self, query: Tokens) -> float:
        w = self.weight
        return sum(w(t) for t in query.positive) + sum(w(t) for t in query.negative)

    def _need(self, entry: Entry) -> float:
        w = self.weight
        need = sum(w(t) * (_MINOR_WEIGHT if t in entry.minor else 1.0) for t in entry.required)
        return need + sum(w(t) * _UNMET_NEGATIVE_WEIGHT for t in entry.negative)

    def rank(self, query: Tokens, limit: int = 10) -> list[tuple[float, Entry]]:
        words = set(query.positive) | set(query.negative) | set(query.implied)
        best: dict[str, tuple[float, int, int, Entry]] = {}
        total = self.total(query)
        w = {t: self.weight(t) for t in (*query.positive, *query.negative, *query.implied)}.__getitem__
        for i in self.candidates(query):
            entry = self.entries[i]
            context = CONTEXT.get(entry.code[0])
            if context and not (words & context):
                continue
            if entry.required & GATED_WORDS - words:
                continue
            score = self.score(query, entry, i, total, w) * entry.weight  # a phrase from another source counts less
            key = (round(score, 6), entry.specificity, -len(entry.text), entry)
            if entry.code not in best or key[:3] > best[entry.code][:3]:
                best[entry.code] = key
        # heapq.nsmallest(n, ...) is sorted(...)[:n], without sorting every candidate
        ordered = heapq.nsmallest(limit, best.values(), key=lambda k: (-k[0], -k[1], -k[2], k[3].code))
        return [(k[0], k[3]) for k in ordered]


def _query(text: str, sex: str) -> Tokens:
    """The cache key Coder.code ranks for a statement (its condition, the context cue stripped)."""
    return query_key(read_context(text).condition, sex)


def _mangled_descriptions(icd, index, n: int = 500, seed: int = 20260401) -> list[Tokens]:
    """Real titles with words dropped and shuffled; a fifth from the context/gated chapters."""
    rng = random.Random(seed)
    titles = sorted({e.text for e in index.entries})
    special = [t for t in titles if any(w in t.lower() for w in (
        "pregnan", "newborn", "neonat", "congenital", "maternal", "postprocedural", "without"))]
    texts = rng.sample(titles, n - n // 5) + rng.sample(special, n // 5)
    queries = []
    for text in texts:
        words = text.replace(",", " , ").split()
        rng.shuffle(words) if rng.random() < 0.5 else None
        keep = [w for w in words if rng.random() > 0.25] or words[:1]
        queries.append(_query(" ".join(keep), rng.choice("MFU")))
    return queries


@pytest.fixture(scope="module")
def indexes():
    icd, index = _load()
    return icd, index, Reference(index.entries)


def _same(index, reference, queries: list[Tokens], limits: tuple[int, ...] = (10,)) -> None:
    for query in queries:
        # The reference's answer for a smaller limit is a prefix of its answer for a larger one.
        slow = [(s, e.code, e.text, id(e)) for s, e in reference.rank(query, max(limits))]
        for limit in limits:
            fast = [(s, e.code, e.text, id(e)) for s, e in index.rank(query, limit)]
            assert fast == slow[:limit], (query, limit)


def test_phrases_and_vague_statements_rank_identically(indexes):
    _, index, reference = indexes
    texts = [p.text for p in PHRASES] + list(VAGUE)
    _same(index, reference, [_query(text, sex) for text in texts for sex in ("U", "M", "F")])


def test_mangled_icd_titles_rank_identically(indexes):
    icd, index, reference = indexes
    queries = _mangled_descriptions(icd, index)
    assert len(queries) == 500
    _same(index, reference, queries, limits=(1, 10, 40))


def test_odd_queries_rank_identically(indexes):
    _, index, reference = indexes
    _same(index, reference, [
        Tokens((), ()), Tokens(("zzzz",), ()), Tokens(("left",), ()), Tokens(("encounter",), ("fever",)),
        Tokens(("diabetes", "diabetes"), ("complication",), ("male", "male")),
        Tokens(("fracture", "femur"), ("displac", "open"), ("unilateral", "left")),
        Tokens(("pregnancy", "hypertension"), ("proteinuria",)), Tokens(("newborn", "jaundice"), ()),
    ], limits=(0, 1, 10, 40))
