"""What a statement says about its condition before we say which condition it is.

A cue is found on the raw statement and stripped; the rest names the condition. Kinds:
  negated    "no", "denies", "negative for", "ruled out", "not consistent with": nothing to code
  family     "FH", "family history of", "mother had", "... in father": Z80-Z84
  history    "history of", "h/o", "hx of", "prior", "previous", "old": personal history Z85-Z87
  status     "s/p", "status post": a procedure's status code, else the condition's history code
  uncertain  "r/o", "suspected", "possible", "?": outpatient rules do not code the condition
A history cue in the middle ("CAD s/p CABG") leaves the first part as the active condition and
the second as an extra status.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_FILLER = r"(?:(?:pt|patient|known|with|has|a|significant)\s+)*"
_RELATIVE = (r"(?:mother|mom|father|dad|sister|brother|sibling|son|daughter|parent|parents|aunt|"
             r"uncle|grandmother|grandfather|grandparent|(?:maternal|paternal)\s+\w+)")

_NEGATED = re.compile(
    rf"^\s*{_FILLER}(?:no|denies|denied|negative for|no evidence of|no signs? of|without evidence of|"
    r"ruled out|absence of|free of|not|not consistent with)\b"
    r"|\b(?:ruled out|was excluded|is excluded)\s*$")
# A negation after the condition has been named ("chest pain, denies SOB") negates only the rest.
_NEGATED_TAIL = re.compile(
    r"[,;]?\s*\b(?:no evidence of|without evidence of|negative for|not consistent with|denies|"
    r"denied|ruled out)\b.*$")
_FAMILY_HEAD = re.compile(
    rf"^\s*(?:(?:fh|fhx|fmhx|fam hx|family history|family hx|family h/o|famhx)\b\s*(?:of|:|-)?"
    rf"|{_RELATIVE}\s+(?:had|has|with|w/|died of|dx with|diagnosed with)\b)\s*")
_FAMILY_TAIL = re.compile(rf"\s*,?\s*\b(?:in|in (?:her|his|the))\s+{_RELATIVE}\s*$")
_STATUS_HEAD = re.compile(rf"^\s*{_FILLER}(?:s/p|status post)\b\s*:?\s*")
_HISTORY_HEAD = re.compile(
    rf"^\s*{_FILLER}(?:(?:remote|past|personal|prior)\s+)?"
    r"(?:history of|h/o|hx of|hx|pmh of|pmh|phx|prior|previous|old|former|past)\b\s*:?\s*")
_MID = re.compile(r"[,;]?\s+\b(s/p|status post|h/o|history of|hx of)\b\s*")
_HEDGES = (r"rule out|r/o|suspected|suspect|possible|possibly|probable|probably|likely|questionable|"
           r"presumed|cannot exclude|concern for|concerning for|suspicious for|worrisome for|c/f")
_UNCERTAIN = re.compile(rf"\b({_HEDGES}|versus|vs)\b" r"|^\s*\?|\?\s*$|(?<=[\s,;])\?(?=\s*\w)")
UNCERTAINTY_WORDS = re.compile(rf"\b({_HEDGES})\b|\?")


_VERSUS = re.compile(r"\b(?:versus|vs)\b|\bor\b")
# "cough concerning for pneumonia", "fever, likely viral": what joins the symptom to the suspicion
_SYMPTOM_TAIL = re.compile(r"(?:[,;:-]|\s)*(?:\b(?:with|and|w/|c/w|consistent with|concerning for|"
                           r"suggestive of|suspicious for|due to|2/2|from|most|more|less)\b(?:[,;:-]|\s)*)*$")


@dataclass(frozen=True)
class Context:
    kind: str  # "active", "negated", "family", "history", "status", "uncertain"
    condition: str  # the statement without its cue
    cue: str = ""  # the words that set the kind
    extra: str = ""  # "CAD s/p CABG": the trailing "CABG", a status beside the active condition
    dropped: str = ""  # "chest pain, denies SOB": the negated rest, not coded
    symptom: str = ""  # "chest pain, r/o MI": the stated symptom before the uncertain diagnosis


def read_context(text: str) -> Context:
    lowered = text.lower().strip()
    if _NEGATED.search(lowered):
        return Context("negated", lowered, _NEGATED.search(lowered).group(0).strip())
    for kind, pattern in (("family", _FAMILY_HEAD), ("status", _STATUS_HEAD), ("history", _HISTORY_HEAD)):
        found = pattern.match(lowered)
        if found and lowered[found.end():].strip():
            condition = lowered[found.end():]
            if kind == "family":  # "FH breast cancer in mother": the relative is said twice
                tail = _FAMILY_TAIL.search(condition)
                condition = condition[:tail.start()] if tail and condition[:tail.start()].strip() else condition
            return Context(kind, condition, found.group(0).strip(" :-"))
    found = _FAMILY_TAIL.search(lowered)
    if found and lowered[:found.start()].strip():
        return Context("family", lowered[:found.start()], found.group(0).strip(" ,"))
    found = _MID.search(lowered)
    if found and lowered[:found.start()].strip() and lowered[found.end():].strip():
        return Context("active", lowered[:found.start()], "", lowered[found.end():])
    dropped = ""
    tail = _NEGATED_TAIL.search(lowered)
    if tail and tail.start() > 0 and lowered[:tail.start()].strip(" ,;"):
        lowered, dropped = lowered[:tail.start()], tail.group(0).strip(" ,;")
    found = _UNCERTAIN.search(lowered)
    if found:
        symptom = ""
        trailing = found.group(0).strip() == "?" and not lowered[found.end():].strip()
        if found.group(0).strip() not in ("versus", "vs") and not trailing and not _VERSUS.search(lowered):
            symptom = _SYMPTOM_TAIL.sub("", lowered[:found.start()]).strip(" ,;:-")
        return Context("uncertain", UNCERTAINTY_WORDS.sub(" ", lowered), found.group(0).strip(), "", dropped,
                       symptom)
    return Context("active", lowered, "", "", dropped)
