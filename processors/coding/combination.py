"""Combination and paired codes the ICD-10-CM guidelines ask for, read straight from the statement.

The index matches one title; a statement such as "DM2 with CKD 3a" needs a combination code
(E11.22) and the code it tells us to add (N18.31). The guidelines presume some links without the
clinician writing "due to": diabetes with the conditions listed under "with" in the alphabetic
index, hypertension with heart failure and with chronic kidney disease (I.C.9.a), COPD with an
acute lower respiratory infection or exacerbation (I.C.10.a). The tables
(processors.coding.combination_data) say that in our own words. `plan` returns None when a
statement is not such a combination; the index then codes it as before. A missing detail (CKD
stage, ulcer site) gives the unspecified code at a confidence below the auto-code threshold, with a
reason naming what is missing. Standard library and those tables only.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from processors.coding import combination_data as D

EXPLICIT = 0.95  # every part of the combination is written
PARTLY = 0.85  # a billable "unspecified" part the text fully supports (CKD stage 3, ulcer depth)
MISSING = 0.7  # a detail the code needs is not written: a coder confirms it


@dataclass(frozen=True)
class Plan:
    codes: tuple[str, ...]  # first is the main code; the rest go on the encounter beside it
    confidence: float
    evidence: str
    reason: str
    rest: str = ""  # set when only a medication was found: code `rest` as usual, then add codes[1:]


def _clean(text: str) -> str:
    text = f" {text.lower()} ".replace("w/o", " without ").replace("w/", " with ").replace("&", " and ")
    text = re.sub(r"(?<=[a-z0-9])-(?=[a-z0-9])", " ", text)
    text = re.sub(r"\b(?:hyperglycaemia|hypoglycaemia|oedema)\b",
                  lambda m: m.group(0).replace("ae", "e").replace("oe", "e"), text)
    return " ".join(D.NEGATED_CLAUSE.sub(" ", text).split())


def _said(pattern: re.Pattern[str], text: str) -> str:
    found = pattern.search(text)
    return found.group(0) if found else ""


def _ckd(text: str) -> tuple[str, str, str] | None:
    """(stage key, words, meaning) of a chronic kidney disease named in the text."""
    words = _said(D.CKD, text)
    if not words:
        return None
    if D.ESRD.search(text):
        return "esrd", _said(D.ESRD, text), "end stage renal disease"
    found = D.CKD_STAGE.search(text)
    if found:
        stage = D.STAGE[found.group(1) or found.group(2)]
        stage = "esrd" if stage == "5" and D.DIALYSIS.search(text) else stage
        return stage, found.group(0), f"chronic kidney disease stage {stage}"
    return "", words, "chronic kidney disease, stage not stated"


class _Parts:
    """Codes gathered in order, with what supported each and the least certain part."""

    def __init__(self) -> None:
        self.codes: list[str] = []
        self.evidence: list[str] = []
        self.missing: list[str] = []
        self.partly: list[str] = []

    def add(self, code: str, words: str = "", meaning: str = "") -> None:
        if code and code not in self.codes:
            self.codes.append(code)
        if words and f"{words} -> {meaning}" not in self.evidence:
            self.evidence.append(f"{words} -> {meaning}")

    def plan(self, rest: str = "") -> Plan:
        confidence = MISSING if self.missing else PARTLY if self.partly else EXPLICIT
        named = ", ".join(self.ordered())
        if self.missing:
            reason = f"combination {named}: {'; '.join(self.missing)} (unspecified code used)"
        else:
            reason = f"combination {named} (ICD-10-CM guidelines)" + (
                f": {'; '.join(self.partly)}" if self.partly else "")
        return Plan(self.ordered(), confidence, "; ".join(self.evidence), reason, rest)

    def ordered(self) -> tuple[str, ...]:
        # The stage, dialysis and drug codes follow the conditions whose notes ask for them
        # (N18 "code first" I12/I13/E1x.22).
        trailing = ("N18", "Z99.2", "Z79")
        return (tuple(c for c in self.codes if not c.startswith(trailing))
                + tuple(c for c in self.codes if c.startswith(trailing)))


def _diabetes(text: str, parts: _Parts) -> tuple[str, str, str, tuple[str, ...]] | None:
    """Adds diabetes combinations to parts; returns (type's category, words, meaning, drug codes)
    when diabetes is named (the drug codes already added when a combination was found)."""
    words = _said(D.DIABETES, text)
    if not words or D.NOT_DM_CODE.search(text):
        return None
    if D.TYPE_1.search(text):
        kind, meaning = "E10", "diabetes type 1"
    elif D.TYPE_OTHER.search(text):
        kind, meaning = "E13", "other specified diabetes"
    elif D.INSULIN_DEP.search(text) and not re.search(r"type (?:2|ii|two)|t2dm|dm ?(?:2|ii)|niddm", text):
        kind, meaning = "E11", "insulin-dependent: type 2 by default (insulin use alone is not type 1)"
    elif re.search(r"type (?:2|ii|two)|t2dm|dm ?(?:2|ii)\b|niddm", text):
        kind, meaning = "E11", "diabetes type 2"
    else:
        kind, meaning = "E11", "diabetes, type not stated: type 2 by default"
    drugs = tuple(code for pattern, code in ((D.INSULIN, "Z79.4"), (D.ORAL, "Z79.84"), (D.INJECTABLE, "Z79.85"))
                  if pattern.search(text) and not (kind == "E10" and code == "Z79.4"))
    before = len(parts.codes)
    ckd = _ckd(text)
    if ckd:
        stage, ckd_words, ckd_meaning = ckd
        parts.add(f"{kind}.22", words, meaning)
        _add_ckd(parts, stage, ckd_words, ckd_meaning, text)
    seen: set[str] = {"kidney"} if ckd else set()
    for pattern, code, named, paired, group in D.DM_COMPLICATIONS:
        found = pattern.search(text)
        if found and group not in seen and not (kind == "E10" and group == "osm"):  # no E10.0x
            seen.add(group)
            parts.add(code.replace("E1x", kind), words, meaning)
            parts.add(paired, found.group(0), named)
    _retinopathy(text, kind, words, meaning, parts)
    ulcer = D.FOOT_ULCER.search(text)
    if ulcer:
        parts.add(f"{kind}.621", words, meaning)
        _add_foot_ulcer(parts, ulcer.group(0), text)
    if len(parts.codes) == before:
        return kind, words, meaning, drugs
    for code in drugs:
        parts.add(code, _said(D.MEDS, text).strip(" ,;"), "long-term drug use")
    return kind, words, meaning, ()


def _retinopathy(text: str, kind: str, words: str, meaning: str, parts: _Parts) -> None:
    """Diabetic retinopathy by severity, macular edema and eye (E1x.3xxx)."""
    found = D.RETINOPATHY.search(text)
    if not found:
        return
    edema = bool(D.MACULAR_EDEMA.search(text))
    side = next((digit for digit, pattern in D.EYE_SIDE if pattern.search(text)), "9")
    if D.NONPROLIFERATIVE.search(text):
        severity = next((digit for word, digit in D.NPDR_SEVERITY if re.search(rf"\b{word}\b", text)), "")
        if not severity:
            severity = "2"
            parts.partly.append("nonproliferative retinopathy, severity not stated: mild by default")
        code, named = f"{kind}.3{severity}{'1' if edema else '9'}{side}", "nonproliferative retinopathy"
    elif D.PROLIFERATIVE.search(text):
        detail = next((digit for pattern, digit in D.PDR_DETAIL if pattern.search(text)), "1" if edema else "9")
        code, named = f"{kind}.35{detail}{side}", "proliferative retinopathy"
    else:
        code, named = f"{kind}.31{'1' if edema else '9'}", "retinopathy"
        side = ""
    if side == "9":
        parts.partly.append("eye not stated (unspecified eye)")
    parts.add(code, words, meaning)
    parts.add("", _said(D.RETINOPATHY, text) + (" with macular edema" if edema and "edema" not in found.group(0) else ""),
              named + (" with macular edema" if edema else ""))


def _add_ckd(parts: _Parts, stage: str, words: str, meaning: str, text: str) -> None:
    if stage not in parts.evidence and not any(c.startswith("N18") for c in parts.codes):
        parts.add(D.N18[stage], words, meaning)
        if not stage:
            parts.missing.append("chronic kidney disease stage not stated (N18.9)")
        elif stage == "3":
            parts.partly.append("CKD stage 3 without 3a/3b (N18.30)")
    if stage == "esrd" and D.DIALYSIS.search(text):
        parts.add("Z99.2", _said(D.DIALYSIS, text), "dialysis dependence")


def _add_foot_ulcer(parts: _Parts, words: str, text: str) -> None:
    side = next((name for name, pattern in D.SIDE if pattern.search(text)), "")
    if not side:
        parts.add("", words, "foot ulcer")
        parts.missing.append("foot ulcer: side not stated, so no L97 code (add it)")
        return
    site = "4" if re.search(r"\b(?:heel|midfoot)\b", text) else "5"
    depth = next((digit for phrase, digit in D.ULCER_DEPTH if phrase in text), "9")
    if depth == "9":
        parts.partly.append("ulcer depth not stated (unspecified severity)")
    where = "heel and midfoot" if site == "4" else "other part of foot"
    parts.add(f"L97.{site}{'1' if side == 'right' else '2'}{depth}", f"{side} {words}",
              f"non-pressure chronic ulcer, {side} {where}")


def _heart_failure(text: str) -> tuple[str, str, str]:
    words = _said(D.HF, text)
    text = D.COPD.sub(" ", D.CKD.sub(" ", text))  # their "chronic" says nothing about the heart
    systolic, diastolic = D.SYSTOLIC.search(text), D.DIASTOLIC.search(text)
    if (systolic and diastolic) or re.search(r"\bcombined\b", text):
        family, kind = "I50.4", "combined systolic and diastolic"
    elif systolic or diastolic:
        family, kind = ("I50.2", "systolic") if systolic else ("I50.3", "diastolic")
    else:
        return "I50.9", words, "heart failure, type not stated"
    for pattern, digit, acuity in ((r"acute on chronic", "3", "acute on chronic "), (r"\bacute\b", "1", "acute "),
                                   (r"\bchronic\b", "2", "chronic ")):
        if re.search(pattern, text):
            return f"{family}{digit}", words, f"{acuity}{kind} heart failure"
    return f"{family}0", words, f"{kind} heart failure"


def _hypertension(text: str, parts: _Parts) -> None:
    words = _said(D.HTN, text)
    if not words or D.NOT_HTN_CODE.search(text):
        return
    hf, ckd, heart = _said(D.HF, text), _ckd(text), _said(D.HEART_DISEASE, text)
    if not (hf or ckd or heart):
        return
    late = bool(ckd) and ckd[0] in ("5", "esrd")
    if (hf or heart) and ckd:
        code = ("I13.2" if late else "I13.0") if hf else ("I13.11" if late else "I13.10")
    elif hf or heart:
        code = "I11.0" if hf else "I11.9"
    else:
        code = "I12.0" if late else "I12.9"
    parts.add(code, words, "hypertension (the guidelines presume the link)")
    if hf:
        parts.add(*_heart_failure(text))
    elif heart and heart not in ("hypertensive heart", "heart disease"):
        parts.add("I51.7", heart, "cardiomegaly / ventricular hypertrophy")
    if ckd:
        _add_ckd(parts, *ckd, text)


def _copd(text: str, parts: _Parts) -> None:
    words = _said(D.COPD, text)
    if not words or D.NOT_COPD_CODE.search(text):
        return
    infection = next(((found.group(0), code, named) for pattern, code, named in D.INFECTIONS
                      if (found := pattern.search(text))), None)
    flare = _said(D.EXACERBATION, text)
    if infection:
        parts.add("J44.0", words, "COPD with acute lower respiratory infection")
        parts.add(infection[1], infection[0], infection[2])
    if flare:
        parts.add("J44.1", f"{words} {flare}" if flare != words else words, "COPD with acute exacerbation")


@functools.lru_cache(maxsize=65536)
def plan(text: str) -> Plan | None:
    """The combination a statement (already stripped of its context cue) calls for, else None."""
    raw, text = " ".join(text.lower().split()), _clean(text)
    parts = _Parts()
    diabetes = _diabetes(text, parts)
    _hypertension(text, parts)
    _copd(text, parts)
    if parts.codes:
        return parts.plan()
    if diabetes is None:
        return None
    kind, words, meaning, drugs = diabetes
    if not D.NOTHING_ELSE.sub(" ", D.MEDS.sub(" ", text)).strip(" ,;"):
        # Diabetes named with no complication: E1x.9 (the index would reach for "unspecified
        # complications"); no type stated is type 2 by the guidelines' default.
        parts.add(f"{kind}.9", words, meaning)
        for code in drugs:
            parts.add(code, _said(D.MEDS, text).strip(" ,;"), "long-term drug use")
        if "default" in meaning:
            parts.partly.append("diabetes type not stated: type 2 by default")
        return parts.plan()
    if drugs and D.MEDS.search(raw):
        # Only the drug is a pairing: code the rest as usual and add the long-term use code.
        rest = re.sub(r"\biddm\b", "diabetes mellitus" if kind == "E10" else "type 2 diabetes mellitus", raw)
        return Plan(drugs, EXPLICIT, f"{_said(D.MEDS, text).strip(' ,;')} -> long-term drug use",
                    "long-term drug use beside diabetes", " ".join(D.MEDS.sub(" ", rest).split()))
    return None
