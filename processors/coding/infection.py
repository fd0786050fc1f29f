"""Sepsis and the organism behind an infection, as the guidelines pair them.

Sepsis (I.C.1.d): the systemic infection's code first (A41.9, or the organism's A40/A41 code), then
the localized infection it came from, and R65.20/R65.21 when severe sepsis or septic shock is
written. An infection with its organism where the code does not name one ("E coli UTI"): the
infection's code and the organism's B95-B96 code beside it. Standard library only.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

SEPSIS = re.compile(r"\b(?:sepsis|septicemia|septicaemia|septic shock|bacterial sepsis)\b")
NOT_SEPSIS_HERE = re.compile(r"\burosepsis\b|\bneonatal\b|\bnewborn\b|\bpuerperal\b|\bpostpartum\b|"
                             r"\bpostprocedural\b|\bpost[- ]?op\w*\b|\bpregnan\w*|\babortion\b|\bhistory\b|"
                             r"\bsepsis (?:screen|workup|protocol)\b")
SHOCK = re.compile(r"\bseptic shock\b")
SEVERE = re.compile(r"\bsevere sepsis\b|\bsepsis with (?:acute )?organ dysfunction\b")

# (pattern, sepsis code, "as the cause" code, name)
ORGANISMS: tuple[tuple[re.Pattern[str], str, str, str], ...] = tuple((re.compile(p), s, b, n) for p, s, b, n in (
    (r"\be\.? ?coli\b|\bescherichia coli\b", "A41.51", "B96.20", "E. coli"),
    (r"\bmrsa\b|\bmethicillin[- ]resistant staph\w*(?: aureus)?\b", "A41.02", "B95.62", "MRSA"),
    (r"\bmssa\b|\bmethicillin[- ]s(?:usceptible|ensitive) staph\w*(?: aureus)?\b|\bstaph(?:ylococcus|ylococcal)?\.? aureus\b",
     "A41.01", "B95.61", "MSSA"),
    (r"\bstreptococcus pneumoniae\b|\bs\.? ?pneumo(?:niae)?\b|\bstrep\.? pneumo(?:niae)?\b|\bpneumococc\w*",
     "A40.3", "B95.3", "Streptococcus pneumoniae"),
    (r"\bgroup a strep\w*|\bgas\b(?= (?:pharyngitis|cellulitis|infection))|\bstrep(?:tococcus)? pyogenes\b",
     "A40.0", "B95.0", "group A streptococcus"),
    (r"\bgroup b strep\w*|\bgbs\b", "A40.1", "B95.1", "group B streptococcus"),
    (r"\bpseudomonas(?: aeruginosa)?\b", "A41.52", "B96.5", "Pseudomonas"),
    (r"\bklebsiella(?: pneumoniae)?\b", "A41.59", "B96.1", "Klebsiella"),
    (r"\bproteus(?: mirabilis)?\b", "A41.59", "B96.4", "Proteus"),
    (r"\benterococc\w*|\bvre\b", "A41.81", "B95.2", "Enterococcus"),
    (r"\bh\.? ?pylori\b|\bhelicobacter(?: pylori)?\b", "A41.89", "B96.81", "Helicobacter pylori"),
))
# Words of a code's title that already name the organism ("Pneumonia due to MRSA", J15.212).
NAMED_IN_TITLE = re.compile(r"escherichia|staphylococc|streptococc|pseudomonas|klebsiella|proteus|enterococc|"
                            r"bacterial|due to|coli|pylori|helicobacter", re.IGNORECASE)
INFECTION = re.compile(r"\b(?:uti|urinary tract infection|cystitis|pyelonephritis|cellulitis|abscess|pneumonia|pna|"
                       r"osteomyelitis|wound infection|infection|infected|bacteremia|endocarditis|meningitis|"
                       r"prostatitis|pharyngitis|impetigo|colitis|enteritis|arthritis|sinusitis|otitis|carrier|"
                       r"gastritis|duodenitis|peptic ulcer|gastric ulcer|duodenal ulcer)\b")
_JOINERS = re.compile(r"\b(?:due to|secondary to|from|d/t|2/2|caused by|with|w/|source|positive|\+)\b|[,;:()]")


@dataclass(frozen=True)
class Found:
    codes: tuple[str, ...]  # sepsis: the sepsis code and R65.2x; an infection: the B95-B96 code
    rest: str  # the localized infection named with it, to code as usual ("" if none)
    words: str
    name: str


def _organism(text: str):
    for pattern, sepsis, cause, name in ORGANISMS:
        found = pattern.search(text)
        if found:
            return found, sepsis, cause, name
    return None


def _rest(text: str, *spans: tuple[int, int]) -> str:
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + " " + text[end:]
    return " ".join(_JOINERS.sub(" ", text).split())


def sepsis(text: str) -> Found | None:
    text = " ".join(text.lower().split())
    found = SEPSIS.search(text)
    if not found or NOT_SEPSIS_HERE.search(text):
        return None
    organism = _organism(text)
    codes = [organism[1] if organism else "A41.9"]
    if SHOCK.search(text):
        codes.append("R65.21")
    elif SEVERE.search(text):
        codes.append("R65.20")
    spans = [m.span() for m in re.finditer(r"\b(?:severe |bacterial )?(?:sepsis|septicemia|septicaemia|septic shock)\b",
                                            text)]
    if organism:
        spans.append(organism[0].span())
    rest = _rest(text, *spans)
    return Found(tuple(codes), rest, found.group(0), organism[3] if organism else "organism not stated")


def organism(text: str) -> Found | None:
    text = " ".join(text.lower().split())
    found = _organism(text)
    if not found or not INFECTION.search(text) or SEPSIS.search(text):
        return None
    rest = _rest(text, found[0].span())
    if rest in ("", "infection", "infected"):
        # B95-B97 only add the cause to a condition coded elsewhere; "E. coli infection" alone is
        # the index's Infection, <organism> (A49.8, A04.8...), for the index to find
        return None
    return Found((found[2],), rest, found[0].group(0), found[3])
