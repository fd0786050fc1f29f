"""An inverted index over the billable ICD-10-CM codes' descriptions and inclusion terms.

Each entry keeps its required words, optional words (parenthesised nonessential modifiers,
defaults such as "primary" or "closed", trailing ", unspecified ..." clauses), negative words
("without ...", "not ...") and minor words (the second half of "A and B" titles, half weight).
A statement matches an entry by IDF-weighted overlap in both directions, so a short statement
prefers the least specific leaf ("Hyperlipidemia, unspecified") over a specific one.
"""
from __future__ import annotations

import heapq
import math
import re
from collections import defaultdict
from dataclasses import dataclass, replace

from processors.coding.normalise import Tokens, apply_synonyms, stem
from processors.coding.normalise_data import NEGATORS, STOPWORDS

# Words whose absence in a statement means the default applies, so they cost nothing if missing.
DEFAULT_WORDS = frozenset(stem(w) for w in (
    "primary", "essential", "closed", "unspecified", "routine", "unidentified", "displaced", "uncomplicated"))
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
# Rounding moves a score by at most 5e-7: bounds are compared with this much room to spare.
_SLACK = 1e-6


@dataclass(frozen=True)
class Entry:
    code: str
    text: str
    required: frozenset[str]
    optional: frozenset[str]
    negative: frozenset[str]
    minor: frozenset[str]
    specificity: int  # 4 an "Unspecified ..." title, 3 "..., unspecified site", 2 unspecified elsewhere, 1 "NOS", 0
    # otherwise, -1 one half of an "X and Y" title
    weight: float = 1.0  # below 1 for a phrase from another source (processors.coding.lexicon)
    via: str = ""  # that phrase and where it comes from; `text` is then the code's own title


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
        elif word == "unspecified" and 0 < pos < len(words) - 2 and words[pos - 1] not in ("and", "or"):
            # "of unspecified ligament of ...": the statement need not name the ligament; but in
            # "..., unspecified hand" only the side is unspecified: the hand is still named.
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
        elif (n > 0 and 2 <= len([w for w in words if w not in STOPWORDS]) <= 3
              and words[0] in ("left", "right", "bilateral") and "of" not in words):
            # "..., right arm" after "shaft of humerus", "..., right bronchus or lung" after "upper lobe":
            # the side is required, the site is implied
            sets["required"].add(stem(words[0]))
            sets["optional"].update(stem(w) for w in words[1:])
        elif n > 0 and len(words) > 2 and words[0] == "unspecified" and words[1] in ("with", "without"):
            # "Thyrotoxicosis, unspecified without thyrotoxic crisis": the with/without still counts
            _clause_tokens(words[1:], False, sets)
        elif n > 0 and clause.startswith(_OPEN_CLAUSES):
            sets["optional"].update(stem(w) for w in words)
        else:
            _clause_tokens(words, n == 0, sets)
    defaults = sets["required"] & DEFAULT_WORDS
    lowered = text.lower()
    # ties go to the unspecified kind ("Unspecified osteoarthritis"), then any unspecified leaf, then NOS
    # a statement naming no site is the "unspecified site" leaf, not an unspecified side of one site
    specificity = (4 if lowered.startswith("unspecified") else 3 if lowered.endswith(", unspecified site")
                   else 2 if "unspecified" in lowered else 1 if lowered.endswith(" nos") else 0)
    return Entry(code, text, frozenset(sets["required"] - defaults),
                 frozenset(sets["optional"] | defaults), frozenset(sets["negative"]),
                 frozenset(sets["minor"]), specificity)


class Index:
    """Ranking is exact but lazy: most candidates share one word with a statement and cannot reach
    the top ten, so candidates are grouped by how they meet the statement and bounded per group."""

    def __init__(self, entries: list[Entry]):
        self.entries = entries
        # Entry ids per (field, word): "any" is required or optional (the candidate postings),
        # "loose" optional only; ("chapter", letter) lists the context chapters' entries.
        lists: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i, entry in enumerate(entries):
            for token in entry.required:
                lists["any", token].append(i)
            for token in entry.optional - entry.required:
                lists["any", token].append(i)
                lists["loose", token].append(i)
            for field, tokens in (("minor", entry.minor), ("negative", entry.negative)):
                for token in tokens:
                    lists[field, token].append(i)
            if entry.code[0] in CONTEXT:
                lists["chapter", entry.code[0]].append(i)
        self._lists = dict(lists)
        self._sets: dict[tuple, set[int]] = {}  # made on first use: most words never are
        self.postings = {t: ids for (field, t), ids in self._lists.items() if field == "any"}
        n = len(entries)
        self.idf = {t: math.log(n / len(ids)) + 1.0 for t, ids in self.postings.items()}
        self.unknown_idf = math.log(n) + 1.0
        self.need = [self._need(e) for e in entries]

    def weight(self, token: str) -> float:
        return self.idf.get(token, self.unknown_idf)

    def _holding(self, field: str, token: str) -> set[int]:
        found = self._sets.get((field, token))
        if found is None:
            found = self._sets[field, token] = set(self._lists.get((field, token), ()))
        return found

    def _ruled_out(self, words: set[str]) -> set[int]:
        """Entries of a chapter whose context the statement lacks, or whose title requires a gated
        word it lacks (required: "any" but not "loose"). Few combinations occur: each made once."""
        key = (tuple(c for c, context in CONTEXT.items() if not words & context),
               tuple(sorted(GATED_WORDS - words)))
        found = self._sets.get(key)
        if found is None:
            found = self._sets[key] = set().union(
                *(self._holding("chapter", c) for c in key[0]),
                *(self._holding("any", g) - self._holding("loose", g) for g in key[1]))
        return found

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

    def _overlap(self, query: Tokens, entry: Entry) -> tuple[float, float, float]:
        """(matched, conflict, got): how much of the statement the entry covers and contradicts,
        and how much of the entry the statement supplies."""
        w = self.weight
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
        return matched, conflict, got

    def _need(self, entry: Entry) -> float:
        """What an entry asks for: its required words (minor ones at half weight) and, at a
        quarter weight, the words it excludes, so a plain statement prefers fewer exclusions."""
        w = self.weight
        need = sum(w(t) * (_MINOR_WEIGHT if t in entry.minor else 1.0) for t in entry.required)
        return need + sum(w(t) * _UNMET_NEGATIVE_WEIGHT for t in entry.negative)

    def _groups(self, live: set[int], query: Tokens) -> list[set[int]]:
        """Split candidates until each group agrees, for every query word, on the fields that
        decide its part in the score: a group then shares matched, conflict and got."""
        probes = {(f, t) for t in query.positive for f in ("any", "loose", "minor", "negative")}
        probes |= {(f, t) for t in query.negative for f in ("any", "negative")}
        probes |= {(f, t) for t in query.implied for f in ("any", "loose")}
        groups = [live] if live else []
        for field, token in probes:
            hit = live & self._holding(field, token)
            if hit and len(hit) < len(live):
                groups = [part for group in groups for part in _split(group, hit)]
        return groups

    def rank(self, query: Tokens, limit: int = 10) -> list[tuple[float, Entry]]:
        """Best entry per code, best first; ties go to the unspecified leaf, then the shorter text
        (within a code, then to the entry met first in candidate-set order, as a plain scan does)."""
        candidates = self.candidates(query)
        # implied words ("pregnancy" beside a condition named in pregnancy) open their chapter too
        live = candidates - self._ruled_out(set(query.positive) | set(query.negative) | set(query.implied))
        w = self.weight
        total = sum(w(t) for t in query.positive) + sum(w(t) for t in query.negative)  # > 0 if live
        plans = []
        for group in self._groups(live, query):
            rep = self.entries[next(iter(group))]
            matched, conflict, got = self._overlap(query, rep)
            cover = max(0.0, matched - conflict) / total
            need = self.need.__getitem__
            # An exclusion the statement also states is not missing (summed in the entry's set order,
            # as always, so floats match exactly).
            if not rep.negative.isdisjoint(query.negative):
                need = {i: need(i) - sum(w(t) * _UNMET_NEGATIVE_WEIGHT for t in self.entries[i].negative
                                         if t in query.negative) for i in group}.__getitem__
            least = min(map(need, group))
            # The score falls as need grows: the least-needing member bounds the whole group.
            plans.append((_score(cover, got, least) if least > 0 else math.inf, cover, got, need, group))
        plans.sort(key=lambda plan: plan[0], reverse=True)

        best: dict[str, tuple[float, int, int, int]] = {}  # code -> (score, specificity, -len, id)
        order: dict[int, int] = {}  # candidate-set positions, made only for an exact tie
        floor = -math.inf  # the limit-th best code score so far: what is clearly below can't rank
        for bound, cover, got, need, group in plans:
            if bound + _SLACK < floor:
                break
            for i in sorted(group, key=need):
                score = round(_score(cover, got, need(i)), 6)
                if need(i) > 0 and score + _SLACK < floor:
                    break  # and so is the rest of the group (a weight only lowers a score)
                entry = self.entries[i]
                if entry.weight != 1.0:
                    score = round(_score(cover, got, need(i)) * entry.weight, 6)
                key = (score, entry.specificity, -len(entry.text), i)
                held = best.get(entry.code)
                if held is None or key[:3] > held[:3]:
                    best[entry.code] = key
                    if held is None and len(best) == limit:  # a first floor, mid-group
                        floor = min(k[0] for k in best.values())
                elif key[:3] == held[:3]:
                    order = order or {c: pos for pos, c in enumerate(candidates)}
                    if order[i] < order[held[3]]:
                        best[entry.code] = key
            if 0 < limit <= len(best):
                floor = heapq.nlargest(limit, (k[0] for k in best.values()))[-1]
        ordered = sorted((kv for kv in best.items() if kv[1][0] >= floor),
                         key=lambda kv: (-kv[1][0], -kv[1][1], -kv[1][2], kv[0]))
        return [(k[0], self.entries[k[3]]) for _, k in ordered[:limit]]


def _split(group: set[int], hit: set[int]) -> tuple[set[int], ...]:
    inside = group & hit
    return (inside, group - inside) if 0 < len(inside) < len(group) else (group,)


def _score(query_cover: float, got: float, need: float) -> float:
    entry_cover = got / need if need else 1.0
    return query_cover ** 0.6 * entry_cover ** 0.4


def build_index(icd, extra: list[Entry] = (), more: list = ()) -> Index:
    """Index every billable leaf; `icd` is the simple_icd_10_cm module; `extra`, entries of codes
    newer than it (from CDC's files); `more`, (code, phrase, weight, where from) of other ways of
    writing a code (processors.coding.lexicon: a category's inclusion terms, excludes notes,
    ICD-9-CM titles), indexed under the code's own title with their weight."""
    entries: list[Entry] = []
    for code in icd.get_all_codes(True):
        # B20, F99, R99, Z66 are single-category blocks as well as billable codes
        if icd.is_chapter(code) or (icd.is_block(code) and not icd.is_category(code)) or not icd.is_leaf(code):
            continue
        title = icd.get_description(code)
        entries.append(parse_term(code, title))
        entries.extend(parse_term(code, term) for term in icd.get_inclusion_term(code))
        # "Syncope and collapse", "Occlusion and stenosis of carotid artery": either half of a
        # title alone names the condition (shown with the whole title; a title that names the
        # half exactly wins a tie). Inclusion terms are not split: "Urge and stress incontinence"
        # means both.
        entries.extend(replace(parse_term(code, half), text=title, specificity=-1) for half in halves(title))
    own: dict[str, str] = {}
    for e in entries:
        own.setdefault(e.code, e.text)  # the title comes first
    seen = {(e.code, e.text.lower()) for e in entries}
    for code, phrase, weight, where, *rest in more:
        if code in own and (code, phrase.lower()) not in seen:
            seen.add((code, phrase.lower()))
            entry = parse_term(code, phrase)
            unless = frozenset(stem(w) for w in (rest[0] if rest else ())) - entry.required - entry.optional
            entries.append(replace(entry, text=own[code], weight=weight, negative=entry.negative | unless,
                                   via=f"{where} '{phrase}'"))
    return Index([*entries, *extra])


_PAIR = re.compile(r"^(?P<x>[A-Za-z-]+(?: [A-Za-z-]+)?) and (?P<y>[A-Za-z-]+(?: [A-Za-z-]+)?)"
                   r"(?P<tail>(?: (?:of|in|due to)\b[^,(\[]*)?)(?P<rest>,.*)?$")
_AND_OTHER = re.compile(r"^(?P<x>[A-Za-z-]+(?: [A-Za-z-]+)?) and other\b[^,]*(?P<rest>,.*)?$")


def halves(text: str) -> tuple[str, ...]:
    """The two readings of a title whose condition is "X and Y" (each half one or two words)."""
    found = _PAIR.match(text)
    if found and not found.group("x").lower().startswith(("other", "unspecified")) and \
            not found.group("y").lower().startswith(("other", "unspecified")):
        tail, rest = found.group("tail") or "", found.group("rest") or ""
        x, y = found.group("x").split(), found.group("y").split()
        if len(x) == 2 and len(y) == 1:  # "Acute embolism and thrombosis": acute thrombosis
            y = [x[0].lower(), *y]
        elif len(x) == 1 and len(y) == 2:  # "Obstructive and reflux uropathy": obstructive uropathy
            x = [*x, y[1]]
        return (f"{' '.join(x)}{tail}{rest}", f"{' '.join(y)}{tail}{rest}")
    found = _AND_OTHER.match(text)
    if found and not found.group("x").lower().startswith(("other", "unspecified")):
        return (f"{found.group('x')}{found.group('rest') or ''}",)
    return ()
