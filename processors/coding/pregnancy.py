"""Pregnancy statements: weeks of gestation, gravida, and what the encounter is for.

Clinicians write "G2P1 at 32 weeks", "IUP 28 wks", "32w4d EGA", "UTI in pregnancy, 20 wks". The
guidelines (I.C.15.b) ask for a Z3A code giving the weeks of gestation beside every pregnancy code,
and for the trimester in the chapter 15 code, counted from the first day of the last period: first
trimester before 14 weeks 0 days, second 14 weeks 0 days to before 28 weeks 0 days, third from 28
weeks 0 days. A routine pregnancy with nothing else named is supervision of a normal pregnancy
(Z34: first pregnancy for G1, other for G2 and up, unspecified when gravida is not written).
`read` finds the pregnancy; the coder codes any condition named with it through the index, in
words that name the trimester. Standard library only.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_WEEKS = re.compile(
    r"\b(\d{1,2})\s*(?:\+\s*\d|and \d/7|\d/7|w\s*\d\s*d)?\s*(?:w|wk|wks|week|weeks)?\s*(?:\d\s*d(?:ays?)?\s*)?"
    r"(?=\s*(?:ga\b|ega\b|gestation|gestational age|pregnant|iup|along|$|[,;]|\s*(?:of|in|with)\b))"
    r"|\b(\d{1,2})\s*(?:\+\s*\d|w\s*\d\s*d|\d/7)?\s*(?:w|wk|wks|week|weeks)\b"
    r"|\b(?:ga|ega|gestational age)\s*(?:of|:|=)?\s*(\d{1,2})\b")
_CUE = re.compile(r"\bg\s*\d+\s*p\s*\d+|\bg\d+\b|\biup\b|\bintrauterine pregnancy\b|\bpregnan\w*|\bgestation\b|"
                  r"\b(?:e?ga)\b|\bprenatal\b|\bantenatal\b|\bprimigravida\b|\bmultigravida\b|\bgravida\b|"
                  r"\bob (?:visit|check|care)\b|"
                  # conditions only a pregnancy has name it themselves ("GDM, 32 wks", "hyperemesis at 10 weeks")
                  r"\bhyperemesis\b|\bgdm(?:\s*a[12])?\b|\bgestational\b|\bpre-?eclampsia\b|\beclampsia\b|"
                  r"\bp?prom\b|\bpih\b|\bplacenta (?:previa|accreta|abruption)\b|\b\d{1,2}\s*(?:w|wk|wks|weeks?)\s*(?:\d\s*d\s*)?(?:pregnant|gestation|ga|ega)\b")
_NOT_HERE = re.compile(r"\bpregnancy test\b|\bnot pregnant\b|\bpostpartum\b|\bpuerper\w*|\bdelivered\b|"
                       r"\bcontracept\w*|\bectopic\b|\bmolar\b|\bmiscarriage\b|\babortion\b|\btermination\b")
_GRAVIDA = re.compile(r"\bg\s*(\d+)(?:\s*p\s*\d+(?:-\d+){0,3})?\b|\b(primigravida|multigravida|primip\w*|multip\w*|"
                     r"first pregnancy|other pregnancy)\b")
_TRIMESTER = re.compile(r"\b(first|1st|second|2nd|third|3rd)\s+(?:trimester|tri)\b|\bt([123])\b")
_TRIMESTER_WORD = {"first": "1", "1st": "1", "second": "2", "2nd": "2", "third": "3", "3rd": "3"}
ORDINAL = {"1": "first", "2": "second", "3": "third"}
_SUPERVISION = re.compile(r"\b(?:supervision|prenatal|antenatal|routine|normal|ob (?:visit|check|care))\b")
# Words that only restate a routine pregnancy (nothing else to code).
_ROUTINE = re.compile(
    r"\b(?:g\s*\d+\s*p\s*\d+(?:-\d+){0,3}|g\d+|iup|intrauterine|pregnancy|pregnant|gestation|gestational age|"
    r"e?ga|weeks?|wks?|w|d|days?|at|of|in|by|lmp|dates|us|ultrasound|u/s|est|estimated|"
    r"supervision|normal|routine|low risk|uncomplicated|prenatal|antenatal|ob|visit|care|check|"
    r"encounter|for|first|second|third|1st|2nd|3rd|trimester|tri|t[123]|primigravida|multigravida|"
    r"primip\w*|multip\w*|gravida|single|singleton|viable|live|currently|now|with|\d+|[+/,;:.-])\b|[+/,;:.-]")


# Obstetric shorthand for the condition beside the pregnancy, in the tabular list's words.
_REST_WORDS = tuple((re.compile(p), w) for p, w in (
    (r"\b(?:ama|advanced maternal age)\b", "supervision of elderly GRAVIDA"),
    (r"\bgbs\s*(?:\+|pos\w*|carrier)|\b(?:group b strep\w*|gbs) (?:positive|carrier)\b", "streptococcus b carrier state"),
    (r"\bgdm\s*a1\b|\bgdma1\b", "gestational diabetes diet controlled"),
    (r"\bgdm\s*a2\b|\bgdma2\b", "gestational diabetes insulin controlled"),
    (r"\bgdm\b", "gestational diabetes"),
    (r"\bpih\b|\bgestational htn\b", "gestational hypertension"),
    (r"\bpprom\b", "preterm premature rupture of membranes"),
    (r"\bprom\b", "premature rupture of membranes"),
))


@dataclass(frozen=True)
class Pregnancy:
    weeks: int | None
    trimester: str  # "1", "2", "3" or "" (not stated)
    gravida: str  # "first", "other" or ""
    rest: str  # the statement without its pregnancy words: a condition to code, or ""
    words: str  # what named the pregnancy
    routine: bool = False  # "supervision", "prenatal visit", "normal pregnancy" written

    @property
    def weeks_code(self) -> str:
        if self.weeks is None:
            return ""
        if self.weeks < 8:
            return "Z3A.01"
        return "Z3A.49" if self.weeks > 42 else f"Z3A.{self.weeks:02d}"

    def supervision_code(self) -> str:
        family = {"first": "Z34.0", "other": "Z34.8"}.get(self.gravida, "Z34.9")
        return f"{family}{self.trimester or '0'}"

    def condition_words(self) -> str:
        """The condition in the index's words: "urinary tract infection in pregnancy, second trimester"."""
        trimester = f", {ORDINAL[self.trimester]} trimester" if self.trimester else ""
        return f"{self.rest} in pregnancy{trimester}"


def _trimester(weeks: int | None, text: str) -> str:
    found = _TRIMESTER.search(text)
    if found:
        return _TRIMESTER_WORD.get(found.group(1) or "", found.group(2) or "")
    if weeks is None:
        return ""
    return "1" if weeks < 14 else "2" if weeks < 28 else "3"


def read(text: str) -> Pregnancy | None:
    """The pregnancy a statement (already stripped of its context cue) names, else None."""
    text = " ".join(text.lower().split())
    if not _CUE.search(text) or _NOT_HERE.search(text):
        return None
    weeks_found = _WEEKS.search(text)
    weeks = None
    if weeks_found and _CUE.search(text):
        number = next(g for g in weeks_found.groups() if g)
        weeks = int(number) if 1 <= int(number) <= 45 else None
    gravida = ""
    found = _GRAVIDA.search(text)
    if found:
        if found.group(1):
            gravida = "first" if found.group(1) == "1" else "other" if int(found.group(1)) > 1 else ""
        else:
            gravida = "first" if found.group(2).startswith(("primi", "first")) else "other"
    rest = text
    if weeks_found and weeks is not None:
        rest = rest[:weeks_found.start()] + " " + rest[weeks_found.end():]
    rest = " ".join(_ROUTINE.sub(" ", rest).split())
    for pattern, words in _REST_WORDS:
        rest = pattern.sub(words.replace("GRAVIDA", "primigravida" if gravida == "first" else "multigravida"), rest)
    words = " ".join(w for w in (found.group(0) if found else "", weeks_found.group(0).strip() if weeks_found else "")
                     if w) or _CUE.search(text).group(0)
    return Pregnancy(weeks, _trimester(weeks, text), gravida, rest, words, bool(_SUPERVISION.search(text)))
