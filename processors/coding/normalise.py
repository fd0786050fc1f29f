"""Turn a clinician's statement into tokens an index can match.

Clinicians write shorthand ("DM2 w/o complications", "L knee OA"); the ICD-10-CM tabular list
writes formal phrases ("Type 2 diabetes mellitus without complications"). The tables that bridge
the two (processors.coding.normalise_data) are applied here: phrasings and shorthand first, then
abbreviations, then clinical words to the words the tabular list uses. Tokens after
"without"/"no"/"not" are negative: "w/o esophagitis" must not match "with esophagitis".
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from processors.coding.normalise_data import (
    ABBREVIATIONS,
    DEFAULTS,
    END_NEGATION,
    GENERIC_WORDS,
    NEGATORS,
    PHRASINGS,
    SLASHED,
    STOPWORDS,
    SYNONYMS,
)


def _literals(source: str) -> tuple[str, ...]:
    """Words of 3+ letters one of which any match of the pattern must contain, or () when the
    pattern has an alternative without one (then it is always tried). Conservative: an optional
    letter ends a word, character classes and escapes are not words."""
    alternatives, depth, start = [], 0, 0
    for i, ch in enumerate(source):  # split at top-level "|"
        if ch == "\\":
            continue
        if ch == "(" and (i == 0 or source[i - 1] != "\\"):
            depth += 1
        elif ch == ")" and source[i - 1] != "\\":
            depth -= 1
        elif ch == "|" and depth == 0 and source[i - 1] != "\\":
            alternatives.append(source[start:i])
            start = i + 1
    alternatives.append(source[start:])
    words: list[str] = []
    for alternative in alternatives:
        if "(?!" in alternative or "(?<!" in alternative:
            alternative = re.sub(r"\(\?<?!(?:[^()]|\([^()]*\))*\)", " ", alternative)
        # only text outside groups is certain to be in the match
        outside, depth = [], 0
        i = 0
        while i < len(alternative):
            ch = alternative[i]
            if ch == "\\":
                outside.append(" ")
                i += 2
                continue
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if i + 1 < len(alternative) and alternative[i + 1] in "?*{":
                    pass
            elif depth == 0:
                outside.append(ch)
            else:
                outside.append(" ")
            i += 1
        flat = re.sub(r"\[[^\]]*\]", " ", "".join(outside))
        flat = re.sub(r"[a-z](?=[?*{])", " ", flat)
        found = [w for w in re.findall(r"[a-z]{3,}", flat)]
        if not found:
            return ()
        words.append(max(found, key=len))
    return tuple(dict.fromkeys(words))


def _replacement(replacement: str | dict[str, str]):
    if isinstance(replacement, dict):  # group 1 kept, group 2 looked up ("stage IIIa": stage 3a)
        return lambda m: f" {m.group(1)} {replacement[m.group(2)]} "
    return replacement


_PHRASINGS = tuple((re.compile(p), _replacement(r)) for p, r in PHRASINGS)
_SCREENED_PHRASINGS = tuple((p, r, _literals(p.pattern)) for p, r in _PHRASINGS)
_DEFAULTS = tuple((re.compile(when), re.compile(unless), before, after)
                  for when, unless, before, after in DEFAULTS)
_WORD = re.compile(r"[a-z0-9]+|,")
_GENERIC_STEMS: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Tokens:
    positive: tuple[str, ...]
    negative: tuple[str, ...]
    implied: tuple[str, ...] = ()  # credited when an entry has them, never missed when it lacks them


def is_generic(tokens: Tokens) -> bool:
    words = tokens.positive + tokens.negative
    return not words or all(w in GENERIC_WORDS or stem(w) in _GENERIC_STEMS for w in words)


def stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if len(word) > 6 and word.endswith("ion"):
        return word[:-3]
    if len(word) > 9 and word.endswith("lessness"):  # "homelessness": homeless
        return word[:-4]
    if len(word) > 5 and word.endswith("ed"):
        return word[:-2]
    return word


def _split_hyphens(text: str) -> str:
    # The tabular list hyphenates inconsistently ("Long term", "Post-traumatic"): compare the parts.
    return re.sub(r"(?<=[a-z0-9])-(?=[a-z0-9])", " ", text)


def fold(text: str) -> str:
    """Lowercase, without accents ("Sjögren", "Ménière": sjogren, meniere), as both sides are read."""
    text = text.lower()
    if text.isascii():
        return text
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def expand(text: str) -> str:
    """Lowercase, expand shorthand and synonyms; the result is still readable text."""
    text = f" {fold(text)} "
    for pattern, replacement, needs in _SCREENED_PHRASINGS:
        # a rewrite can only match where one of its literal words is: most statements have none
        if not needs or any(word in text for word in needs):
            text = pattern.sub(replacement, text)
    for short, long in SLASHED:
        text = text.replace(short, long)
    text = _split_hyphens(text.replace("'s", "").replace("'", ""))
    words = [ABBREVIATIONS.get(w, w) for w in re.findall(r"[a-z0-9]+|,", text)]
    return " ".join(apply_synonyms(_defaults(" ".join(w for w in words if w))).split())


_HF_TYPE = re.compile(r"\b(?:systolic|diastolic|combined|right|left|rheumatic|hypertensive|biventricular|"
                      r"high output|end stage|postprocedural|newborn|neonatal|congenital)\b")
_HF_ACUITY = re.compile(r"\b(?:acute on chronic|acute|chronic|decompensated|exacerbation|exacerbated|flare)\b")


def _defaults(text: str) -> str:
    if "heart failure" in text and not _HF_TYPE.search(text):
        # Failure, heart, acute / decompensated, type not written: still I50.9
        text = _HF_ACUITY.sub(" ", text)
    for when, unless, before, after in _DEFAULTS:
        if not unless.search(text):
            if after.startswith("$"):  # said after the whole statement
                text = f"{text} {after[1:]}" if when.search(text) else text
            else:
                text = when.sub(lambda m, b=before, a=after: f"{b}{m.group(0)}{a}", text, count=1)
    return text


def tokens_of(expanded: str) -> Tokens:
    """Split into positive and negative tokens (a negator flips what follows until with/and/comma)."""
    positive: list[str] = []
    negative: list[str] = []
    negating = False
    for word in _WORD.findall(expanded):
        if word in END_NEGATION:
            negating = False
            continue
        if word in NEGATORS:
            negating = True
            continue
        if word in STOPWORDS:
            continue
        target = negative if negating else positive
        token = stem(word)
        if token not in target:
            target.append(token)
    implied = ("unilateral",) if ("left" in positive or "right" in positive) else ()
    return Tokens(tuple(positive), tuple(negative), implied)


_SYNONYM_MAP = {clinical: _split_hyphens(tabular) for clinical, tabular in SYNONYMS}
_SYNONYM_RE = re.compile(r"\b(" + "|".join(
    re.escape(c) for c in sorted(_SYNONYM_MAP, key=len, reverse=True)) + r")\b")


def apply_synonyms(text: str) -> str:
    """Synonyms only (no abbreviations): used on tabular terms so both sides speak alike."""
    return _SYNONYM_RE.sub(lambda m: _SYNONYM_MAP[m.group(1)], _split_hyphens(fold(text)))


_GENERIC_STEMS = frozenset(stem(w) for w in GENERIC_WORDS)
