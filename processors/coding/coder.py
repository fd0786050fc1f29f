"""The automatic coder: clinician statement -> one billable ICD-10-CM code, a confidence, and the
words that supported it.

A statement's context cue (negation, history, family history, s/p, uncertainty) is read first and
stripped; an active statement that names a guideline combination (diabetes with a complication,
hypertension with heart or kidney disease, COPD with exacerbation or infection) is coded by
processors.coding.combination; otherwise the index finds the condition, and the context moves it
to its history, family or status code (processors.coding.history) or keeps it from being coded.
What the code set says of a code (release in force, billable, title, notes) is answered by
processors.coding.lookup, which the Coder extends. simple-icd-10-cm takes seconds to load and the
index a few more, so both are built once per process and shared by every Coder. Ranked candidates
are cached per normalised condition; the patient filter runs after.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date as Date

from processors.coding import (
    bmi,
    combination,
    history,
    infection,
    lexicon,
    notes,
    phrasing,
    pregnancy,
)
from processors.coding.coder_data import LISTS, WELL_VISIT
from processors.coding.codeset import Release
from processors.coding.context import Context, read_context
from processors.coding.episode import as_episode, choose_episode
from processors.coding.evidence import explain
from processors.coding.index import Index, build_index, parse_term
from processors.coding.lookup import CodeSet
from processors.coding.normalise import Tokens, is_generic, stem, tokens_of
from processors.coding.normalise import expand as _expand

expand = functools.lru_cache(maxsize=65536)(_expand)  # each statement is expanded twice or more

UNSTATED_EPISODE_CAP = 0.75  # an injury without its episode of care: a coder confirms it
UNMAPPED_HISTORY_CAP = 0.75  # a history title found by the index but not by our tables
UNMAPPED_HISTORY_FLOOR = 0.75  # below this the index's history title is a guess: not suggested
STATUS_CONFIDENCE = 0.95
BMI_CONFIDENCE = 0.9
SEPSIS_CONFIDENCE = 0.9
UNEXPLAINED_CAP = 0.7  # words left over that the code does not explain
PREGNANCY_CONFIDENCE = 0.9  # a routine pregnancy with its trimester (from the weeks or in words)
PREGNANCY_UNSTATED_CAP = 0.7  # pregnant, but the trimester or the encounter's purpose is not written
EXTERNAL_CAUSES = ("V", "W", "X", "Y")
# B95-B97 name the agent of a condition coded elsewhere: supplementary, never a statement's only code
SUPPLEMENTARY = ("B95", "B96", "B97")
CLOSE_CALL = 0.05  # another reading's best code this near a second one is a close call ...
CLOSE_CALL_CAP = 0.79  # ... and goes to review
SIDE_CALL = 0.15  # a side the best title drops, when a code this near names it, is a coder's call
_NOTE_FILLER = frozenset({"underlying", "any", "associated", "such", "if", "applicable"})
_SIDE = re.compile(r"\b(left|right|bilateral|unilateral)\b", re.IGNORECASE)
SPLIT_BELOW = 0.8  # a ";" list is coded as its parts only when every part is coded this surely
_WELL_VISIT = re.compile(WELL_VISIT, re.IGNORECASE)
_LISTS = tuple((re.compile(p, re.IGNORECASE), r) for p, r in LISTS)
_HISTORY_TITLES = {"history": ("personal history", "history of"), "status": ("personal history",),
                   "family": ("family history",)}
_ROLE = {"history": "history", "status": "status", "family": "family history", "uncertain": "uncertain"}


@dataclass(frozen=True)
class Suggestion:
    code: str | None
    confidence: float
    evidence: str
    reason: str
    also: tuple[str, ...] = ()  # status codes named beside the condition ("CAD s/p CABG": Z95.1)


def query_key(condition: str, sex: str) -> Tokens:
    """What the index ranks for a condition (already stripped of its cue) and a patient sex."""
    query = tokens_of(as_episode(expand(condition)))
    implied = {"M": ("male",), "F": ("female",)}.get(sex, ())
    return Tokens(tuple(sorted(query.positive)), tuple(sorted(query.negative)),
                  tuple(sorted(set(query.implied) | set(implied))))


@functools.cache
def _load() -> tuple[object, Index]:
    import simple_icd_10_cm as icd  # ~2 s and ~200 MB: once per process, and only when coding

    from processors.coding import lexicon

    # The index is built once per machine and kept beside the lexicon, named after the packages'
    # versions and the code that builds it: a later process reads it instead (several times faster).
    return icd, lexicon.cached("index", lambda: build_index(icd, more=_lexicon(icd)["terms"]),
                               sources=("index.py", "normalise.py", "normalise_data.py",
                                        "lexicon.py"))


@functools.cache
def _lexicon(icd) -> dict:
    """Other ways of writing codes, from the packages (processors.coding.lexicon; cached on disk)."""
    from processors.coding import lexicon

    return lexicon.load(icd)


@functools.cache
def _organisms(index: Index) -> dict[str, str]:
    return phrasing.organism_words(index.postings)


@functools.cache
def _load_releases(folder: str) -> tuple[object, Index, tuple[Release, ...]]:
    """The code set, its index and the releases (processors.coding.releases), once per folder."""
    from processors.coding import releases

    icd, index = _load()
    loaded = releases.load(icd, folder)
    # Codes newer than the package join the index with their CDC titles (when a deployment has
    # them); each statement is ranked among the codes of the release in force on its date.
    newer = sorted({c for r in loaded[1:] for c in r.billable - loaded[0].billable})
    terms = dict.fromkeys((code, text) for code in newer for r in loaded[1:]
                          for text in (r.titles.get(code), *r.terms.get(code, ())) if text)
    extra = [parse_term(code if len(code) <= 3 else f"{code[:3]}.{code[3:]}", text) for code, text in terms]
    return icd, (build_index(icd, extra, _lexicon(icd)["terms"]) if extra else index), loaded


def _side_dropped(query: Tokens, best: tuple[float, str, str], ranked) -> tuple[float, str, str]:
    """"SNHL, left" whose best title names no side ("Unspecified sensorineural hearing loss") while
    a code nearly as good names the left: which one is meant is a coder's call, so it goes to review."""
    score, code, title = best
    sides = {w for w in ("left", "right") if w in query.positive}
    if not sides or _SIDE.search(title):
        return best
    near = any(other >= score - SIDE_CALL and sides & {m.lower() for m in _SIDE.findall(t)}
               for other, c, t in ranked if c != code)
    return (min(score, CLOSE_CALL_CAP), code, title) if near else best


class Coder(CodeSet):
    """The code set (processors.coding.lookup) and the coding of statements against it."""

    def __init__(self, cache_size: int = 65536, releases_folder: str = ""):
        """`releases_folder`: the deployment's CDC ICD-10-CM releases (RCM_ICD10CM_RELEASES, given
        by the command or worker that read the settings); empty: the package's release only."""
        icd, self._index, releases = _load_releases(releases_folder)
        super().__init__(icd, releases, cache_size)
        self._only_base_indexed = self._index is _load()[1]  # no newer code has a title
        self._on: Release | None = None  # the release in force for the statement being coded
        self._ranked = functools.lru_cache(maxsize=cache_size)(self._rank)
        self._read = functools.lru_cache(maxsize=cache_size)(self._read_all)
        self._abbreviations = _lexicon(self._icd)["abbreviations"]
        for name in ("code", "_has_sides"):
            setattr(self, name, functools.lru_cache(maxsize=cache_size)(getattr(self, name)))

    # --- coding ---------------------------------------------------------------------------
    def _rank(self, query: Tokens) -> tuple[tuple[float, str, str], ...]:
        return tuple((score, e.code, e.text) for score, e in self._index.rank(query))

    def _in_force(self, ranked):
        """Ranked codes of the release in force for the statement being coded."""
        on = self._on or self._base
        if on is self._base and self._only_base_indexed:
            return ranked
        return tuple(r for r in ranked if on.has(r[1]))

    def _read_all(self, query: Tokens, condition: str) -> tuple[tuple[float, str, str], ...]:
        """The ranking of the statement and of its other readings (processors.coding.phrasing),
        each code at its best score, the readings' scores times their factor."""
        ranked = self._ranked(query)
        others = phrasing.variants(query, condition, self._index.postings, self._abbreviations,
                                   _organisms(self._index))
        if not others:
            return ranked
        best = {code: (score, code, title) for score, code, title in ranked}
        for variant, factor, why in others:
            for score, code, title in self._ranked(variant):
                if why == phrasing.NEC_WHY and not re.search(r"\bother\b", title, re.IGNORECASE):
                    continue  # "specified NEC" is never the unspecified code
                score = round(score * factor, 6)
                if code not in best or score > best[code][0]:
                    best[code] = (score, code, title)
        order = {code: i for i, (_, code, _) in enumerate(ranked)}
        merged = sorted(best.values(), key=lambda r: (-r[0], order.get(r[1], len(order)), r[1]))
        plain = {code: score for score, code, _ in ranked}
        if (len(merged) > 1 and merged[0][0] > plain.get(merged[0][1], 0.0)
                and merged[1][0] >= merged[0][0] - CLOSE_CALL):
            # another reading chose, and nearly as well as a second code: a coder decides
            merged = [(min(score, CLOSE_CALL_CAP), code, title) for score, code, title in merged]
        return tuple(merged)

    def _best(self, condition: str, age: int | None, sex: str):
        """(score, code, title) of the best code that fits the patient, else a reason."""
        query = query_key(condition, sex)
        if is_generic(query):
            return "too vague to code: no clinical condition named"
        everything = self._read(query, expand(condition))
        ranked = self._in_force(everything)
        if everything and (self._on or self._base) is not self._base and everything[0] not in ranked:
            # the best title is a code the release in force deleted: its successors are a coder's
            return f"best match {self.not_in_release(everything[0][1], self._on.effective_from)}"
        # External causes (V00-Y99) say how or where, never what: they are never first-listed
        # (guideline I.C.20), so a statement is not coded as one alone; nor as B95-B97 alone.
        ranked = tuple(r for r in ranked if not r[1].startswith(EXTERNAL_CAUSES + SUPPLEMENTARY))
        for score, code, title in ranked:
            if not self.conflicts(code, age, sex):
                return _side_dropped(query, (score, code, title), ranked)
        if ranked:
            return f"best match does not fit the patient: {self.conflicts(ranked[0][1], age, sex)[0][1]}"
        return "too vague to code: no ICD-10-CM title matches"

    def code(self, text: str, age: int | None = None, sex: str = "U", date: Date | None = None) -> Suggestion:
        """The suggestion for a statement, from the release in force on `date` (the date of
        service; the package's release when none is given)."""
        self._on = self._coding_release(date)
        try:
            found = self._code(text, age, sex)
        finally:
            self._on = None
        stale = [why for c in (found.code, *found.also) if c and (why := self.not_in_release(c, date))]
        if date is None or not stale:
            return found
        # a table's code (a combination, a status, a BMI) that the release in force no longer has
        return Suggestion(None, 0.0, found.evidence, "; ".join(stale))

    def _code(self, text: str, age: int | None = None, sex: str = "U") -> Suggestion:
        text = (text or "").strip()
        for pattern, words in _LISTS:
            text = pattern.sub(words, text)
        if _WELL_VISIT.match(text):  # the patient's age says whose examination it is
            text = ("routine child health examination" if age is not None and age < 18
                    else "general adult medical examination")
        parts = [p for p in (p.strip(" ,") for p in text.split(";")) if p]
        if len(parts) > 1:  # a list the clinician wrote as one statement
            return self._several(text, parts, age, sex) or self._code_one(text.replace(";", ","), age, sex)
        return self._code_one(text, age, sex)

    def _several(self, text: str, parts: list[str], age: int | None, sex: str) -> Suggestion | None:
        """Each part coded alone; used only when every part is confidently coded."""
        found = [self._code_one(part, age, sex) for part in parts]
        if not all(s.code and s.confidence >= SPLIT_BELOW for s in found):
            return None
        codes = tuple(dict.fromkeys(c for s in found for c in (s.code, *s.also)))
        if len(codes) < len(parts):
            return None
        return Suggestion(codes[0], min(s.confidence for s in found), "; ".join(s.evidence for s in found),
                          f"{len(parts)} conditions named: " + "; ".join(s.reason for s in found), codes[1:])

    def _code_one(self, text: str, age: int | None = None, sex: str = "U") -> Suggestion:
        ctx = read_context(text)
        if ctx.kind == "negated":
            return Suggestion(None, 0.0, text, "negated: the statement rules the condition out")
        if ctx.kind in ("history", "status", "family"):
            return self._past(text, ctx, age, sex)
        if ctx.kind == "uncertain" and ctx.symptom:
            # "chest pain, r/o MI": the stated symptom is certain and is what is coded
            stated = self._code_one(ctx.symptom, age, sex)
            if stated.code:
                return Suggestion(stated.code, stated.confidence, f"{stated.evidence}; {ctx.cue} -> uncertain",
                                  f"{stated.reason}; the suspected condition after '{ctx.cue}' is not coded "
                                  "(outpatient rules: the symptom is)", stated.also)
        if ctx.kind == "active" and "bm" in ctx.condition:
            weight = self._with_bmi(ctx.condition, age, sex)
            if weight:
                return weight
        if ctx.kind == "active":
            found = pregnancy.read(ctx.condition)
            pregnant = self._pregnancy(found, age, sex) if found else None
            if pregnant:
                return pregnant
            infected = self._infection(ctx.condition, age, sex)
            if infected:
                return infected
            paired = self._combined(ctx, age, sex)
            if paired:
                return paired
        best = self._best(ctx.condition, age, sex)
        if isinstance(best, str):
            reason = "negated: the statement rules the condition out" if ctx.dropped else best
            return Suggestion(None, 0.0, text, reason)
        score, code, title = best
        expanded = as_episode(expand(ctx.condition))
        code, title, episode = choose_episode(self, code, title, expanded)
        also = ()
        if (ctx.kind == "active" and "bilateral" in expanded and "bilateral" not in title.lower()
                and self._has_sides(code)):
            sides = self._both_sides(ctx.condition, score, age, sex)
            if sides:
                score, code, title, also = sides
                code, title, episode = choose_episode(self, code, title, expanded)
                also = tuple(choose_episode(self, c, self.describe(c), expanded)[0] for c in also)
        if ctx.extra:
            found = history.status_code(expand(ctx.extra))
            also = (found[0],) if found else ()
        evidence = explain(expanded, title, ctx.cue, _ROLE.get(ctx.kind, ""))
        if ctx.kind == "uncertain":
            # Outpatient rules (Section IV.H): the suspected condition is not coded, only a coder
            # who knows the setting (inpatient codes it as if confirmed) can; so it is named, not given.
            return Suggestion(None, 0.0, evidence,
                              f"uncertain diagnosis: outpatient rules code the symptoms, not the "
                              f"suspected condition (suggest {code} '{title}')", ())
        if episode == "assumed":
            return Suggestion(code, min(round(score, 4), UNSTATED_EPISODE_CAP), evidence,
                              f"episode of care not stated: initial encounter assumed for {code} "
                              f"'{title}'", also)
        found = Suggestion(code, round(score, 4), evidence, f"matched {code} '{title}'", also)
        return self._first_as_noted(ctx, found)

    def _first_as_noted(self, ctx: Context, found: Suggestion) -> Suggestion:
        """A 'code first' note whose words the statement itself says ("COVID PNA": J12.82 says
        code first COVID-19 (U07.1); "anemia in CKD": D63.1 says underlying CKD (N18.-)) puts
        that code first; a category named is read from the statement, else its default leaf."""
        if ctx.kind != "active":
            return found
        first = self._noted_first(ctx.condition, found.code)
        if not first or first == found.code or first in found.also:
            return found
        return Suggestion(first, found.confidence, found.evidence,
                          f"{found.reason}; its 'code first' note names {first}", (found.code, *found.also))

    def _noted_first(self, condition: str, code: str) -> str | None:
        expanded = expand(condition)
        said = set(tokens_of(expanded).positive)
        for note in self.instruction_notes(code):
            if note.kind != "code first" or len(note.refs) != 1 or note.refs[0][0] != note.refs[0][1]:
                continue
            named = set(tokens_of(expand(re.sub(r"\([^)]*\)", " ", note.text))).positive) - _NOTE_FILLER
            if not named or not named <= said:
                continue
            ranked = self._in_force(self._read(query_key(condition, "U"), expanded))
            within = [c for _, c, _ in ranked if notes.covers(note.refs, c)]
            if within:
                return within[0]
            leaf = lexicon.default_leaf(self._icd, self.dotted(note.refs[0][0]))
            return leaf if leaf and self.is_valid(leaf) else None
        return None

    def _combined(self, ctx: Context, age: int | None, sex: str) -> Suggestion | None:
        """A combination or paired code the guidelines call for (processors.coding.combination)."""
        found = combination.plan(ctx.condition)
        if found is None:
            return None
        status = history.status_code(expand(ctx.extra)) if ctx.extra else None
        extra = (status[0],) if status else ()
        if found.rest:  # only a drug was paired: the rest is coded as usual
            rest = self._code(found.rest, age, sex)
            if rest.code is None:
                return None
            also = tuple(dict.fromkeys((*rest.also, *found.codes, *extra)))
            return Suggestion(rest.code, rest.confidence, f"{rest.evidence}; {found.evidence}",
                              rest.reason, also)
        if not found.codes or self.conflicts(found.codes[0], age, sex):
            return None
        return Suggestion(found.codes[0], found.confidence, found.evidence, found.reason,
                          tuple(dict.fromkeys((*found.codes[1:], *extra))))

    def _infection(self, condition: str, age: int | None, sex: str) -> Suggestion | None:
        """Sepsis with its source and severity; an infection with its organism's B95-B96 code."""
        found = infection.sepsis(condition)
        if found:
            also, confidence, evidence = list(found.codes[1:]), SEPSIS_CONFIDENCE, f"{found.words} -> sepsis ({found.name})"
            if found.rest:
                source = self._code_one(found.rest, age, sex)
                if source.code:
                    also[:0] = [source.code, *source.also]
                    evidence += f"; {source.evidence}"
                confidence = min(confidence, source.confidence if source.code else UNEXPLAINED_CAP)
            named = ", ".join((found.codes[0], *also))
            return Suggestion(found.codes[0], round(confidence, 4), evidence,
                              f"sepsis (I.C.1.d): {named}", tuple(dict.fromkeys(also)))
        found = infection.organism(condition)
        if not found:
            return None
        whole = self._best(condition, age, sex)
        if not isinstance(whole, str) and whole[0] >= SPLIT_BELOW and infection.NAMED_IN_TITLE.search(whole[2]):
            return None  # the code names the organism itself ("MRSA pneumonia": J15.212)
        local = self._code_one(found.rest, age, sex)
        if not local.code:
            return None
        return Suggestion(local.code, min(local.confidence, SEPSIS_CONFIDENCE),
                          f"{local.evidence}; {found.words} -> organism ({found.name})",
                          f"{local.reason}; organism {found.codes[0]} beside it",
                          tuple(dict.fromkeys((*local.also, *found.codes))))

    def _has_sides(self, code: str) -> bool:
        """Whether the code's siblings include a right-side code (else no side to split into)."""
        plain = code.replace(".", "")
        if len(plain) == 7 and self._seven_defs(code):  # the 7th character is the episode, not the site
            code = self.dotted(plain[:6]) if self.is_valid(plain[:6]) else self.dotted(plain[:5])
        parent = self._icd.get_parent(code) if self.is_valid(code) else ""
        return bool(parent) and any("right" in self.describe(c).lower() for c in self._icd.get_children(parent))

    def _both_sides(self, condition: str, score: float, age: int | None, sex: str):
        """"bilateral knee pain" where the code set has no bilateral code: the right and the left
        codes (M25.561 and M25.562), if each side codes at least as well as the whole did."""
        plain = re.sub(r"\b(?:bilateral|bilat|both|b/l)\b", " ", condition.lower())
        found = [self._best(f"{side} {plain}", age, sex) for side in ("right", "left")]
        if any(isinstance(f, str) for f in found):
            return None
        (right_score, right, right_title), (left_score, left, left_title) = found
        if (right == left or "right" not in right_title.lower() or "left" not in left_title.lower()
                or min(right_score, left_score) < score):
            return None
        return min(right_score, left_score), right, right_title, (left,)

    def _with_bmi(self, condition: str, age: int | None, sex: str) -> Suggestion | None:
        """"morbid obesity, BMI 42": the weight diagnosis, with the BMI's Z68 code beside it."""
        found = bmi.read(condition, age)
        if found is None:
            return None
        code, rest, words = found
        if rest:
            main = self._code_one(rest, age, sex)
            if main.code is None:
                return None
            also = tuple(dict.fromkeys((*main.also, code))) if code else main.also
            return Suggestion(main.code, main.confidence, f"{main.evidence}; {words} -> body mass index",
                              main.reason + ("" if code else f"; {words}: no BMI code for this age"), also)
        if not code:
            return Suggestion(None, 0.0, words, f"body mass index without a code for age {age} "
                                                "(children 2-19 are coded by percentile)")
        return Suggestion(code, BMI_CONFIDENCE, f"{words} -> body mass index",
                          f"body mass index: {code} '{self.describe(code)}'")

    def _pregnancy(self, found: pregnancy.Pregnancy, age: int | None, sex: str) -> Suggestion | None:
        """A pregnancy with its weeks of gestation (Z3A beside the pregnancy code, I.C.15.b.3)."""
        weeks = (found.weeks_code,) if found.weeks_code else ()
        named = f"{found.words} -> pregnancy" + (f", {found.weeks} weeks" if weeks else "")
        if not found.rest:
            routine = bool(found.trimester or found.gravida or found.routine)
            code = found.supervision_code() if routine else "Z33.1"
            if self.conflicts(code, age, sex):
                return None
            confidence = PREGNANCY_CONFIDENCE if found.trimester or found.routine else PREGNANCY_UNSTATED_CAP
            what = ("routine pregnancy: supervision of normal pregnancy" if routine
                    else "pregnant state: what the encounter is for is not stated")
            return Suggestion(code, confidence, named, f"{what}: {code} '{self.describe(code)}'"
                              + (f" with {weeks[0]}" if weeks else ""), weeks)
        best = self._best_in_pregnancy(found, age, sex)
        if best is None:
            return None
        score, code, title = best
        evidence = f"{named}; " + explain(expand(found.rest), title)
        if not code.startswith("O"):
            # Chapter 15 codes come first in pregnancy: a condition the index places elsewhere is
            # for a coder to sequence (O99.x with it, or Z33.1 when incidental).
            return Suggestion(code, min(round(score, 4), PREGNANCY_UNSTATED_CAP), evidence,
                              f"condition in pregnancy coded outside chapter 15: {code} '{title}' "
                              "(a coder confirms the pregnancy code)", weeks)
        return Suggestion(code, round(score, 4), evidence, f"matched {code} '{title}' in pregnancy", weeks)

    def _best_in_pregnancy(self, found: pregnancy.Pregnancy, age: int | None, sex: str):
        """The best chapter 15 code for a condition in pregnancy: ranked with the pregnancy and
        trimester written out, and with them implied (credited where a title has them, never missed
        where it has not: "hyperemesis" is O21.0, with no trimester); else the index's best code."""
        explicit = query_key(found.condition_words(), sex)
        if is_generic(explicit):
            return None
        rest = tokens_of(expand(found.rest))
        trimester = ("trimester", stem(pregnancy.ORDINAL[found.trimester])) if found.trimester else ()
        implied = Tokens(rest.positive, rest.negative,
                         tuple(sorted({*rest.implied, "pregnancy", *trimester, *explicit.implied})))
        chosen = None
        for query in (explicit, implied):
            for score, code, title in self._in_force(self._ranked(query)):
                if found.trimester and "unspecified trimester" in title.lower():
                    continue  # the trimester is known
                if code.startswith("O") and not self.conflicts(code, age, sex):
                    if chosen is None or score > chosen[0]:
                        chosen = (score, code, title)
                    break
        if chosen is not None:
            return chosen
        best = self._best(found.condition_words(), age, sex)
        return None if isinstance(best, str) else best

    def _past(self, text: str, ctx: Context, age: int | None, sex: str) -> Suggestion:
        """A past condition, a family member's, or a procedure's status: never the active code."""
        role = _ROLE[ctx.kind]
        if ctx.kind in ("status", "history"):  # "s/p CABG", "hx of appendectomy": the procedure's status
            found = history.status_code(expand(ctx.condition))
            if found:
                code, words = found
                return Suggestion(code, STATUS_CONFIDENCE, f"{ctx.cue} -> status; {words} -> procedure",
                                  f"status after a procedure: {code} '{self.describe(code)}'")
        if ctx.kind != "family":
            found = history.personal_word_code(expand(ctx.condition))
            if found:
                code, words = found
                return Suggestion(code, STATUS_CONFIDENCE, f"{ctx.cue} -> {role}; {words} -> condition",
                                  f"{role}: {code} '{self.describe(code)}'")
        # A relative's condition is not the patient's: the patient's age and sex do not filter it.
        best = self._best(ctx.condition, *((None, "U") if ctx.kind == "family" else (age, sex)))
        table = history.FAMILY if ctx.kind == "family" else history.PERSONAL
        if not isinstance(best, str):
            score, active, title = best
            code = history.history_code(table, active, title)
            if code and not self.conflicts(code, age, sex):
                evidence = explain(expand(ctx.condition), title, ctx.cue, role)
                return Suggestion(code, round(score, 4), evidence,
                                  f"{role}: {active} '{title}' -> {code} '{self.describe(code)}'")
        # No table row: a history title the index finds, for a coder to confirm.
        whose = "family" if ctx.kind == "family" else "personal"
        for score, code, title in self._in_force(self._ranked(query_key(f"{whose} history of {ctx.condition}", sex)))[:3]:
            if (score >= UNMAPPED_HISTORY_FLOOR and title.lower().startswith(_HISTORY_TITLES[ctx.kind])
                    and not self.conflicts(code, age, sex)):
                return Suggestion(code, min(round(score, 4), UNMAPPED_HISTORY_CAP),
                                  explain(expand(ctx.condition), title, ctx.cue, role), f"{role}: no table row; the index "
                                  f"suggests {code} '{title}' for a coder to confirm")
        named = "" if isinstance(best, str) else f" for {best[1]} '{best[2]}'"
        return Suggestion(None, 0.0, text, f"{role}: no {role} code known{named}; "
                                           f"the active condition is not coded")
