"""The 7th character of injury codes: initial, subsequent or sequela, where the statement says so.

The index matches the whole title, so "sprain of L ankle" without an episode drifts to the shortest
title ("..., sequela"). Here the episode is read from the statement and the 7th character set to
match; when the statement does not say, the initial encounter is assumed and flagged.
"""
from __future__ import annotations

import re

from processors.coding.normalise import stem

_EPISODES = (
    ("sequela", re.compile(r"\b(sequela|sequelae|late effects?)\b")),
    ("subsequent", re.compile(r"\b(subsequent|follow up|followup|healing|nonunion|malunion|"
                              r"aftercare|routine healing)\b")),
    ("initial", re.compile(r"\b(initial|new|ed visit|er visit|emergency|active treatment)\b")),
)


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
    if plain[-1] in family or not family:
        return code, title, how
    words = {stem(w) for w in re.findall(r"[a-z]+", expanded)}
    # The letter whose wording the statement shares most ("delayed healing", "open fracture");
    # ties go to the first letter, the plainest (A closed initial, D routine healing).
    letter = max(family, key=lambda k: (sum(stem(w) in words for w in re.findall(r"[a-z]+", defs[k])
                                            if w not in ("encounter", "for", "with", "subsequent",
                                                         "initial", "fracture", "type")),
                                        -family.index(k)))
    chosen = coder.dotted(plain[:-1] + letter)
    if not coder.is_billable(chosen):
        return code, title, how
    return chosen, coder.describe(chosen), how
