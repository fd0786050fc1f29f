"""The 7th character of injury codes: initial, subsequent or sequela, where the statement says so.

The index matches the whole title, so "sprain of L ankle" without an episode drifts to the shortest
title ("..., sequela"). Here the episode is read from the statement and the 7th character set to
match; when the statement does not say, the initial encounter is assumed and flagged.
"""
from __future__ import annotations

import re

from processors.coding.normalise import stem
from processors.coding.normalise_data import STOPWORDS

_INJURY = re.compile(r"\b(fracture|sprain|strain|laceration|contusion|injury|dislocation|burn|"
                     r"concussion|wound|abrasion|bite)\b")
_FOLLOW_UP = re.compile(r"\b(follow up|followup)\b")
_PLAIN = frozenset({"encounter", "subsequent", "initial", "fracture", "type", "nos"}) | STOPWORDS

_EPISODES = (
    ("sequela", re.compile(r"\b(sequela|sequelae|late effects?)\b")),
    ("subsequent", re.compile(r"\b(subsequent|follow up|followup|healing|nonunion|malunion|"
                              r"aftercare|routine healing)\b")),
    ("initial", re.compile(r"\b(initial|new|ed visit|er visit|emergency|active treatment)\b")),
)


def as_episode(expanded: str) -> str:
    """An injury's "follow-up" is its subsequent encounter, as the tabular list words it."""
    return _FOLLOW_UP.sub("subsequent encounter", expanded) if _INJURY.search(expanded) else expanded


def stated_episode(expanded: str) -> str:
    for episode, pattern in _EPISODES:
        if pattern.search(expanded):
            return episode
    return ""


def choose_episode(coder, code: str, title: str, expanded: str) -> tuple[str, str, str]:
    """(code, title, how the episode was chosen: "" not an episode code, "stated", "assumed")."""
    plain = code.replace(".", "")
    if len(plain) != 7:
        return code, title, ""
    defs = coder._seven_defs(code)
    if not defs or plain[-1] not in defs:
        return code, title, ""
    episode = stated_episode(expanded)
    how = "stated" if episode else "assumed"
    episode = episode or "initial"
    family = [letter for letter, text in sorted(defs.items()) if text.startswith(episode)]
    if not family:
        return code, title, how
    words = {stem(w) for w in re.findall(r"[a-z]+", expanded)}
    # The letter whose wording the statement shares most ("delayed healing", "open fracture");
    # ties go to the index's letter, then to the first, the plainest (A closed initial, D routine).
    letter = max(family, key=lambda k: (
        sum(stem(w) in words for w in set(re.findall(r"[a-z]+", defs[k].lower())) - _PLAIN),
        k == plain[-1], -family.index(k)))
    if letter == plain[-1]:
        return code, title, how
    chosen = coder.dotted(plain[:-1] + letter)
    if not coder.is_billable(chosen):
        return code, title, how
    return chosen, coder.describe(chosen), how
