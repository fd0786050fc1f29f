"""Which words of a statement supported which part of its code, said in one short line:
"left -> laterality; knee -> site; osteoarthritis -> condition"."""
from __future__ import annotations

import functools
import re

from processors.coding.normalise import apply_synonyms, stem
from processors.coding.normalise_data import STOPWORDS

_ROLES: tuple[tuple[str, frozenset[str]], ...] = tuple((role, frozenset(stem(w) for w in words)) for role, words in (
    ("laterality", ("left", "right", "bilateral", "unilateral")),
    ("episode of care", ("initial", "subsequent", "sequela", "encounter", "healing", "nonunion", "malunion")),
    ("acuity", ("acute", "chronic", "subacute", "exacerbation", "recurrent", "remission")),
    ("type", ("type", "1", "2", "3", "4", "5", "stage", "systolic", "diastolic", "primary", "secondary")),
    ("site", ("knee", "hip", "ankle", "wrist", "shoulder", "elbow", "radius", "ulna", "femur", "tibia",
              "fibula", "humerus", "scalp", "head", "neck", "back", "chest", "abdomen", "foot", "hand",
              "finger", "toe", "eye", "ear", "breast", "colon", "lung", "kidney", "liver", "prostate",
              "bladder", "skin", "limb", "extremity", "spine", "lumbar", "cervical", "thoracic", "face",
              "lower", "upper", "end", "leg", "arm", "bronchus", "rectum", "stomach", "brain", "heart",
              "coronary", "artery", "vein", "urinary", "tract", "ovary", "uterus", "thyroid", "pancreas",
              "esophagus", "joint", "ligament", "quadrant", "sinus", "throat", "pharynx", "tonsil")),
))


def _role(token: str) -> str:
    for role, words in _ROLES:
        if token in words:
            return role
    return "condition"


@functools.lru_cache(maxsize=65536)
def explain(expanded: str, title: str, cue: str = "", cue_role: str = "") -> str:
    """Words of the expanded statement that the chosen title shares, each with its part."""
    title_tokens = {stem(w) for w in re.findall(r"[a-z0-9]+", apply_synonyms(title))}
    parts = [f"{cue} -> {cue_role}"] if cue else []
    grouped: dict[str, list[str]] = {}
    for word in dict.fromkeys(re.findall(r"[a-z0-9]+", expanded)):
        token = stem(word)
        if word in STOPWORDS or token not in title_tokens:
            continue
        grouped.setdefault(_role(token), []).append(word)
    parts += [f"{' '.join(words)} -> {role}" for role, words in grouped.items()]
    return "; ".join(parts) or expanded
