"""Combination and paired codes the ICD-10-CM guidelines ask for, read straight from the statement.

The index matches one title; a statement such as "DM2 with CKD 3a" needs a combination code
(E11.22) and the code it tells us to add (N18.31). The guidelines presume some links without the
clinician writing "due to": diabetes with the conditions listed under "with" in the alphabetic
index, hypertension with heart failure and with chronic kidney disease (I.C.9.a), COPD with an
acute lower respiratory infection or exacerbation (I.C.10.a). The tables below say that in our
own words. `plan` returns None when a statement is not such a combination; the index then codes
it as before. A missing detail (CKD stage, ulcer site) gives the unspecified code at a confidence
below the auto-code threshold, with a reason naming what is missing. Standard library only.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

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


def _any(*words: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(words) + r")\b")


_DIABETES = _any(r"t[12]dm", r"dm ?(?:1|2|i|ii)", r"n?iddm", "dm", r"diabet(?:es|ic)(?: mellitus)?", "dka")
_NOT_DM_CODE = _any("gestational", r"pregnan\w*", "pre ?existing", r"(?:drug|steroid) induced",
                    r"due to (?:an? )?underlying", "secondary diabetes", "cystic fibrosis",
                    r"pre ?diabet\w*", "insipidus", "neonatal", "postpartum")
_TYPE_1 = _any(r"type (?:1|i|one)", "t1dm", r"dm ?(?:1|i)", "juvenile")
_TYPE_OTHER = _any("other specified", r"post ?pancreatectomy", "postprocedural")
_INSULIN_DEP = _any("iddm", r"insulin (?:dependent|requiring|treated)")
_INSULIN = re.compile(r"\b(?:iddm|insulin)\b(?! resistan)")
_ORAL = _any(r"oral (?:hypoglycemics?|antidiabetics?|agents?|meds?|medications?)", "metformin",
             "glipizide", "glyburide", "glimepiride", "sitagliptin", "januvia", "pioglitazone",
             "empagliflozin", "jardiance", "dapagliflozin", "farxiga")
_INJECTABLE = _any("semaglutide", "ozempic", "liraglutide", "victoza", "dulaglutide", "trulicity",
                   "tirzepatide", "mounjaro", r"glp ?1(?: agonist| ra)?")
_MEDS = re.compile(r"[,;]?\s*\b(?:on|taking|uses|using|controlled (?:with|on)|treated with|managed with)?\s*"
                   r"(?:" + "|".join(p.pattern for p in (_INSULIN, _ORAL, _INJECTABLE)) + r")"
                   r"(?:\s*(?:and|\+|,)\s*(?:" + "|".join(p.pattern for p in (_INSULIN, _ORAL, _INJECTABLE))
                   + r"))*(?:\s*(?:dependent|requiring|treated|therapy))?")

# (pattern, code with "E1x" for the diabetes type, what it names, paired code or "", group); the
# first match of a group wins ("peripheral neuropathy" is E1x.42, not also E1x.40)
_NOTHING_ELSE = _any(r"type (?:1|2|i|ii|one|two)", r"t[12]dm", r"dm ?(?:1|2|i|ii)", r"n?iddm", "dm",
                     r"diabet(?:es|ic)", "mellitus", "controlled", "well", "stable", "uncomplicated",
                     r"(?:non )?insulin dependent", "adult onset", "juvenile", "chronic", "with")
_DM_COMPLICATIONS: tuple[tuple[re.Pattern[str], str, str, str, str], ...] = (
    (_any("gastroparesis"), "E1x.43", "diabetic gastroparesis", "K31.84", "gi"),
    (_any("autonomic (?:poly)?neuropathy"), "E1x.43", "autonomic neuropathy", "", "neuro"),
    (_any("mononeuropathy"), "E1x.41", "mononeuropathy", "", "neuro"),
    (_any("polyneuropathy", "peripheral neuropathy", "neuropathic", "dpn"), "E1x.42", "polyneuropathy", "", "neuro"),
    (_any("neuropathy"), "E1x.40", "neuropathy, unspecified", "", "neuro"),
    (_any(r"(?:keto ?acidosis|dka) with coma"), "E1x.11", "ketoacidosis with coma", "", "acid"),
    (_any(r"keto ?acidosis", "dka"), "E1x.10", "ketoacidosis without coma", "", "acid"),
    (_any(r"hyperosmola\w* (?:\w+ )?with coma", r"(?:hhs|hhns|honk) with coma"), "E1x.01",
     "hyperosmolarity with coma", "", "osm"),
    (_any(r"hyperosmola\w*", "hhs", "hhns", "honk"), "E1x.00", "hyperosmolarity without coma", "", "osm"),
    (_any("hypoglycemia with coma"), "E1x.641", "hypoglycemia with coma", "", "hypo"),
    (_any("hypoglycemia", "hypoglycemic episodes?", "low blood sugars?"), "E1x.649", "hypoglycemia", "", "hypo"),
    (_any("hyperglycemia", "poorly controlled", "out of control", "inadequately controlled",
          "high blood sugars?"), "E1x.65", "hyperglycemia", "", "hyper"),
    (_any("peripheral (?:vascular|arterial) disease", "pvd", "pad", "peripheral angiopathy"),
     "E1x.51", "peripheral angiopathy", "", "pvd"),
    (_any("nephropathy"), "E1x.21", "nephropathy", "", "kidney"),
)
_FOOT_ULCER = re.compile(r"\b(?:foot|feet|heel|toe|plantar|dfu)\b[^,;]*?\bulcers?\b|\bulcers?\b[^,;]*?"
                         r"\b(?:foot|feet|heel|toe|plantar)\b|\bdfu\b")
_SIDE = (("right", re.compile(r"\b(?:right|rt|r)\b")), ("left", re.compile(r"\b(?:left|lt|l)\b")))
_ULCER_DEPTH = (("limited to breakdown of skin", "1"), ("fat layer exposed", "2"),
                ("necrosis of muscle", "3"), ("necrosis of bone", "4"), ("muscle involvement", "5"),
                ("bone involvement", "6"))

_CKD = _any("ckd", "chronic kidney disease", r"chronic renal (?:disease|failure|insufficiency)",
            "chronic kidney failure", "diabetic kidney disease", "esrd", "eskd",
            r"end stage (?:renal|kidney) (?:disease|failure)")
_CKD_STAGE = re.compile(
    r"\b(?:ckd|chronic kidney disease|chronic renal (?:disease|failure|insufficiency)|kidney disease)"
    r"\s*,?\s*(?:stage|stg|st)?\s*(3a|3b|iiia|iiib|[1-5]|iv|iii|ii|i|v)\b"
    r"|\bstage\s*(3a|3b|iiia|iiib|[1-5]|iv|iii|ii|i|v)\s*(?:ckd|chronic kidney|kidney|renal)")
_ESRD = _any("esrd", "eskd", r"end stage (?:renal|kidney)")
_DIALYSIS = _any("on dialysis", "dialysis dependent", "on hemodialysis", "hd dependent", "on hd", "on pd",
                 "peritoneal dialysis")
_STAGE = {"1": "1", "i": "1", "2": "2", "ii": "2", "3": "3", "iii": "3", "3a": "3a", "iiia": "3a",
          "3b": "3b", "iiib": "3b", "4": "4", "iv": "4", "5": "5", "v": "5"}
_N18 = {"1": "N18.1", "2": "N18.2", "3": "N18.30", "3a": "N18.31", "3b": "N18.32", "4": "N18.4",
        "5": "N18.5", "esrd": "N18.6", "": "N18.9"}

_HTN = _any("htn", "hypertension", "hypertensive", "high blood pressure")
_NOT_HTN_CODE = _any("pulmonary", "portal", "intracranial", "ocular", "gestational", r"pregnan\w*",
                     "pre ?eclampsia", "white coat", "secondary hypertension", "renovascular", "urgency", "emergency",
                     "crisis", "unrelated to")
_HF = _any("chf", "ccf", "hf", "heart failure", "hfref", "hfpef", "cardiac failure")
_SYSTOLIC = _any("systolic", "hfref", "reduced ejection fraction", "reduced ef")
_DIASTOLIC = _any("diastolic", "hfpef", "preserved ejection fraction", "preserved ef")
_HEART_DISEASE = _any("hypertensive heart", r"(?<!coronary )(?<!ischemic )(?<!valvular )(?<!congenital )"
                      r"(?<!rheumatic )(?<!atherosclerotic )heart disease", "lvh", "left ventricular hypertrophy", "cardiomegaly")

_COPD = _any("copd", "aecopd", r"chronic obstructive (?:pulmonary|lung|airways?) disease", "coad")
_NOT_COPD_CODE = _any("emphysema", "asthma", "aspiration", "bronchiectasis")
_EXACERBATION = _any(r"exacerbations?", "exacerbated", "exac", "exacerb", "flare", "aecopd", "decompensated")
_INFECTIONS = (  # most specific first
    (_any("pneumococcal pneumonia"), "J13", "pneumococcal pneumonia"),
    (_any("viral pneumonia"), "J12.9", "viral pneumonia"),
    (_any("bacterial pneumonia"), "J15.9", "bacterial pneumonia"),
    (_any("lobar pneumonia"), "J18.1", "lobar pneumonia"),
    (_any("pneumonia", "pna", "cap"), "J18.9", "pneumonia"),
    (_any("acute bronchitis"), "J20.9", "acute bronchitis"),
    (_any("bronchiolitis"), "J21.9", "acute bronchiolitis"),
    (_any(r"(?:acute )?lower resp\w* (?:tract )?infection", "lrti"), "", "acute lower respiratory infection"),
)

_NEGATED_CLAUSE = re.compile(r"\b(?:without|no|not|denies|negative for)\b(?:(?!\b(?:with|and)\b)[^,;])*")


def _clean(text: str) -> str:
    text = f" {text.lower()} ".replace("w/o", " without ").replace("w/", " with ").replace("&", " and ")
    text = re.sub(r"(?<=[a-z0-9])-(?=[a-z0-9])", " ", text)
    text = re.sub(r"\b(?:hyperglycaemia|hypoglycaemia|oedema)\b",
                  lambda m: m.group(0).replace("ae", "e").replace("oe", "e"), text)
    return " ".join(_NEGATED_CLAUSE.sub(" ", text).split())


def _said(pattern: re.Pattern[str], text: str) -> str:
    found = pattern.search(text)
    return found.group(0) if found else ""


def _ckd(text: str) -> tuple[str, str, str] | None:
    """(stage key, words, meaning) of a chronic kidney disease named in the text."""
    words = _said(_CKD, text)
    if not words:
        return None
    if _ESRD.search(text):
        return "esrd", _said(_ESRD, text), "end stage renal disease"
    found = _CKD_STAGE.search(text)
    if found:
        stage = _STAGE[found.group(1) or found.group(2)]
        stage = "esrd" if stage == "5" and _DIALYSIS.search(text) else stage
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
    words = _said(_DIABETES, text)
    if not words or _NOT_DM_CODE.search(text):
        return None
    if _TYPE_1.search(text):
        kind, meaning = "E10", "diabetes type 1"
    elif _TYPE_OTHER.search(text):
        kind, meaning = "E13", "other specified diabetes"
    elif _INSULIN_DEP.search(text) and not re.search(r"type (?:2|ii|two)|t2dm|dm ?(?:2|ii)|niddm", text):
        kind, meaning = "E11", "insulin-dependent: type 2 by default (insulin use alone is not type 1)"
    elif re.search(r"type (?:2|ii|two)|t2dm|dm ?(?:2|ii)\b|niddm", text):
        kind, meaning = "E11", "diabetes type 2"
    else:
        kind, meaning = "E11", "diabetes, type not stated: type 2 by default"
    drugs = tuple(code for pattern, code in ((_INSULIN, "Z79.4"), (_ORAL, "Z79.84"), (_INJECTABLE, "Z79.85"))
                  if pattern.search(text) and not (kind == "E10" and code == "Z79.4"))
    before = len(parts.codes)
    ckd = _ckd(text)
    if ckd:
        stage, ckd_words, ckd_meaning = ckd
        parts.add(f"{kind}.22", words, meaning)
        _add_ckd(parts, stage, ckd_words, ckd_meaning, text)
    seen: set[str] = {"kidney"} if ckd else set()
    for pattern, code, named, paired, group in _DM_COMPLICATIONS:
        found = pattern.search(text)
        if found and group not in seen and not (kind == "E10" and group == "osm"):  # no E10.0x
            seen.add(group)
            parts.add(code.replace("E1x", kind), words, meaning)
            parts.add(paired, found.group(0), named)
    _retinopathy(text, kind, words, meaning, parts)
    ulcer = _FOOT_ULCER.search(text)
    if ulcer:
        parts.add(f"{kind}.621", words, meaning)
        _add_foot_ulcer(parts, ulcer.group(0), text)
    if len(parts.codes) == before:
        return kind, words, meaning, drugs
    for code in drugs:
        parts.add(code, _said(_MEDS, text).strip(" ,;"), "long-term drug use")
    return kind, words, meaning, ()


_RETINOPATHY = _any(r"retinopathy", r"n?pdr", "dr", "dme", "csme", "macular edema")
_MACULAR_EDEMA = _any("macular edema", "dme", "csme", "cme", r"macular oedema")
_NONPROLIFERATIVE = _any(r"non ?proliferative", "npdr", "background")
_PROLIFERATIVE = _any("proliferative", "pdr")
_PDR_DETAIL = ((_any(r"traction (?:retinal )?detachment (?:involving|of) (?:the )?macula"), "2"),
               (_any(r"traction (?:retinal )?detachment not involving (?:the )?macula"), "3"),
               (_any(r"combined traction (?:and )?rhegmatogenous"), "4"),
               (_any("stable proliferative"), "5"))
_NPDR_SEVERITY = (("mild", "2"), ("moderate", "3"), ("severe", "4"))
_EYE_SIDE = (("3", _any("bilateral", "bilat", "both eyes", "ou", "b/l", "each eye")),
             ("1", _any("right", "rt", "r", "od", "right eye")), ("2", _any("left", "lt", "l", "os", "left eye")))


def _retinopathy(text: str, kind: str, words: str, meaning: str, parts: _Parts) -> None:
    """Diabetic retinopathy by severity, macular edema and eye (E1x.3xxx)."""
    found = _RETINOPATHY.search(text)
    if not found:
        return
    edema = bool(_MACULAR_EDEMA.search(text))
    side = next((digit for digit, pattern in _EYE_SIDE if pattern.search(text)), "9")
    if _NONPROLIFERATIVE.search(text):
        severity = next((digit for word, digit in _NPDR_SEVERITY if re.search(rf"\b{word}\b", text)), "")
        if not severity:
            severity = "2"
            parts.partly.append("nonproliferative retinopathy, severity not stated: mild by default")
        code, named = f"{kind}.3{severity}{'1' if edema else '9'}{side}", "nonproliferative retinopathy"
    elif _PROLIFERATIVE.search(text):
        detail = next((digit for pattern, digit in _PDR_DETAIL if pattern.search(text)), "1" if edema else "9")
        code, named = f"{kind}.35{detail}{side}", "proliferative retinopathy"
    else:
        code, named = f"{kind}.31{'1' if edema else '9'}", "retinopathy"
        side = ""
    if side == "9":
        parts.partly.append("eye not stated (unspecified eye)")
    parts.add(code, words, meaning)
    parts.add("", _said(_RETINOPATHY, text) + (" with macular edema" if edema and "edema" not in found.group(0) else ""),
              named + (" with macular edema" if edema else ""))


def _add_ckd(parts: _Parts, stage: str, words: str, meaning: str, text: str) -> None:
    if stage not in parts.evidence and not any(c.startswith("N18") for c in parts.codes):
        parts.add(_N18[stage], words, meaning)
        if not stage:
            parts.missing.append("chronic kidney disease stage not stated (N18.9)")
        elif stage == "3":
            parts.partly.append("CKD stage 3 without 3a/3b (N18.30)")
    if stage == "esrd" and _DIALYSIS.search(text):
        parts.add("Z99.2", _said(_DIALYSIS, text), "dialysis dependence")


def _add_foot_ulcer(parts: _Parts, words: str, text: str) -> None:
    side = next((name for name, pattern in _SIDE if pattern.search(text)), "")
    if not side:
        parts.add("", words, "foot ulcer")
        parts.missing.append("foot ulcer: side not stated, so no L97 code (add it)")
        return
    site = "4" if re.search(r"\b(?:heel|midfoot)\b", text) else "5"
    depth = next((digit for phrase, digit in _ULCER_DEPTH if phrase in text), "9")
    if depth == "9":
        parts.partly.append("ulcer depth not stated (unspecified severity)")
    where = "heel and midfoot" if site == "4" else "other part of foot"
    parts.add(f"L97.{site}{'1' if side == 'right' else '2'}{depth}", f"{side} {words}",
              f"non-pressure chronic ulcer, {side} {where}")


def _heart_failure(text: str) -> tuple[str, str, str]:
    words = _said(_HF, text)
    text = _COPD.sub(" ", _CKD.sub(" ", text))  # their "chronic" says nothing about the heart
    systolic, diastolic = _SYSTOLIC.search(text), _DIASTOLIC.search(text)
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
    words = _said(_HTN, text)
    if not words or _NOT_HTN_CODE.search(text):
        return
    hf, ckd, heart = _said(_HF, text), _ckd(text), _said(_HEART_DISEASE, text)
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
    words = _said(_COPD, text)
    if not words or _NOT_COPD_CODE.search(text):
        return
    infection = next(((found.group(0), code, named) for pattern, code, named in _INFECTIONS
                      if (found := pattern.search(text))), None)
    flare = _said(_EXACERBATION, text)
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
    if not _NOTHING_ELSE.sub(" ", _MEDS.sub(" ", text)).strip(" ,;"):
        # Diabetes named with no complication: E1x.9 (the index would reach for "unspecified
        # complications"); no type stated is type 2 by the guidelines' default.
        parts.add(f"{kind}.9", words, meaning)
        for code in drugs:
            parts.add(code, _said(_MEDS, text).strip(" ,;"), "long-term drug use")
        if "default" in meaning:
            parts.partly.append("diabetes type not stated: type 2 by default")
        return parts.plan()
    if drugs and _MEDS.search(raw):
        # Only the drug is a pairing: code the rest as usual and add the long-term use code.
        rest = re.sub(r"\biddm\b", "diabetes mellitus" if kind == "E10" else "type 2 diabetes mellitus", raw)
        return Plan(drugs, EXPLICIT, f"{_said(_MEDS, text).strip(' ,;')} -> long-term drug use",
                    "long-term drug use beside diabetes", " ".join(_MEDS.sub(" ", rest).split()))
    return None
