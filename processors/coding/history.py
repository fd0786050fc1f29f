"""Where a past or family condition is coded: our own tables from the active condition's code to
the history code, and from a procedure named after "s/p" to its status code.

The active condition is found by the index as usual; these tables then move it to the history
family. The longest matching prefix wins; a row may also require a word of the active code's title
(all S codes are injuries, only fractures have a fracture history code). A condition with no row is
not guessed: the statement goes to review. Every target is checked as a billable leaf by a test.
"""
from __future__ import annotations

import re

# (prefix of the active code, word its title must contain or "", history code)
PERSONAL: tuple[tuple[str, str, str], ...] = (
    ("C15", "", "Z85.01"), ("C16", "", "Z85.028"), ("C18", "", "Z85.038"), ("C19", "", "Z85.048"),
    ("C20", "", "Z85.048"), ("C21", "", "Z85.048"), ("C22", "", "Z85.05"), ("C25", "", "Z85.07"),
    ("C32", "", "Z85.21"), ("C34", "", "Z85.118"), ("C43", "", "Z85.820"), ("C44", "", "Z85.828"),
    ("C50", "", "Z85.3"), ("C53", "", "Z85.41"), ("C54", "", "Z85.42"), ("C55", "", "Z85.42"),
    ("C56", "", "Z85.43"), ("C61", "", "Z85.46"), ("C62", "", "Z85.47"), ("C64", "", "Z85.528"),
    ("C65", "", "Z85.53"), ("C67", "", "Z85.51"), ("C71", "", "Z85.841"), ("C73", "", "Z85.850"),
    ("C80", "", "Z85.9"), ("C81", "", "Z85.71"), ("C82", "", "Z85.72"), ("C83", "", "Z85.72"),
    ("C84", "", "Z85.72"), ("C85", "", "Z85.72"), ("C91", "", "Z85.6"), ("C92", "", "Z85.6"),
    ("C93", "", "Z85.6"), ("C94", "", "Z85.6"), ("C95", "", "Z85.6"),
    ("D05", "", "Z86.000"), ("D06", "", "Z86.001"), ("D12", "", "Z86.0100"), ("K63.5", "", "Z86.0100"),
    ("A15", "", "Z86.11"), ("U07.1", "", "Z86.16"), ("A41", "", "Z86.19"), ("A49.02", "", "Z86.14"),
    ("O24.4", "", "Z86.32"), ("G45", "", "Z86.73"), ("I63", "", "Z86.73"), ("I46", "", "Z86.74"),
    ("I26", "", "Z86.711"), ("I82", "", "Z86.718"), ("I21", "", "I25.2"), ("I22", "", "I25.2"),
    ("N39.0", "", "Z87.440"), ("N20", "", "Z87.442"), ("K25", "", "Z87.11"), ("K26", "", "Z87.11"),
    ("K27", "", "Z87.11"), ("K28", "", "Z87.11"), ("J18", "", "Z87.01"), ("F17", "", "Z87.891"),
    ("Z72.0", "", "Z87.891"), ("F10.1", "", "F10.11"), ("F10.2", "", "F10.21"), ("R29.6", "", "Z91.81"),
    ("S06", "", "Z87.820"), ("S", "fracture", "Z87.81"), ("T78.2", "", "Z87.892"),
)

FAMILY: tuple[tuple[str, str, str], ...] = (
    *((f"C{n}", "", "Z80.0") for n in range(15, 27)),
    *((f"C{n}", "", "Z80.1") for n in range(30, 40)), ("C50", "", "Z80.3"),
    ("C56", "", "Z80.41"), ("C61", "", "Z80.42"), ("C62", "", "Z80.43"),
    *((f"C{n}", "", "Z80.49") for n in (51, 52, 53, 54, 55, 57, 58, 60, 63)),
    ("C64", "", "Z80.51"), ("C67", "", "Z80.52"), ("C65", "", "Z80.59"), ("C66", "", "Z80.59"),
    ("C68", "", "Z80.59"), *((f"C{n}", "", "Z80.6") for n in range(91, 96)),
    *((f"C{n}", "", "Z80.7") for n in (81, 82, 83, 84, 85, 86, 88, 90, 96)),
    *((f"C{n}", "", "Z80.8") for n in (43, 44, 45, 46, 47, 48, 49, 69, 70, 71, 72, 73, 74, 75)),
    ("C80", "", "Z80.9"), ("D12", "", "Z83.719"), ("K63.5", "", "Z83.719"),
    ("F70", "", "Z81.0"), ("F71", "", "Z81.0"), ("F72", "", "Z81.0"), ("F79", "", "Z81.0"),
    ("F10", "", "Z81.1"), ("F17", "", "Z81.2"), *((f"F1{n}", "", "Z81.3") for n in (1, 2, 3, 4, 5, 6, 8, 9)),
    ("F2", "", "Z81.8"), ("F3", "", "Z81.8"), ("F4", "", "Z81.8"), ("F90", "", "Z81.8"),
    ("G", "", "Z82.0"), ("F01", "", "Z82.0"), ("F03", "", "Z82.0"), ("H54", "", "Z82.1"),
    ("H90", "", "Z82.2"), ("H91", "", "Z82.2"), ("I60", "", "Z82.3"), ("I61", "", "Z82.3"),
    ("I63", "", "Z82.3"), ("I46", "", "Z82.41"), ("I", "", "Z82.49"), ("J4", "", "Z82.5"),
    ("M05", "", "Z82.61"), ("M06", "", "Z82.61"), ("M1", "", "Z82.61"), ("M80", "", "Z82.62"),
    ("M81", "", "Z82.62"), ("M", "", "Z82.69"), ("Q", "", "Z82.79"), ("B20", "", "Z83.0"),
    ("A", "", "Z83.1"), ("D5", "", "Z83.2"), ("D6", "", "Z83.2"), ("E08", "", "Z83.3"),
    ("E10", "", "Z83.3"), ("E11", "", "Z83.3"), ("E13", "", "Z83.3"), ("E78.0", "", "Z83.42"),
    ("E78", "", "Z83.438"), ("E0", "", "Z83.49"), ("E66", "", "Z83.49"), ("H40", "", "Z83.511"),
    ("K50", "", "Z83.79"), ("K51", "", "Z83.79"), ("L", "", "Z84.0"), ("N0", "", "Z84.19"),
    ("N1", "", "Z84.19"), ("N2", "", "Z84.19"),
)

# Past conditions named in words the index reads as something else ("former smoker").
PERSONAL_WORDS: tuple[tuple[str, str], ...] = (
    (r"\b(smoker|smoking|tobacco|cigarettes?|nicotine)\b", "Z87.891"),
    (r"\b(falls?|falling)\b", "Z91.81"),
)
_PERSONAL_WORDS = tuple((re.compile(p), code) for p, code in PERSONAL_WORDS)

# Status after a procedure: (pattern on the expanded statement, code, or a {side: code} choice).
_SIDES = ("right", "left", "bilateral", "")
STATUS: tuple[tuple[str, str | dict[str, str]], ...] = (
    (r"\bcabg\b|coronary (artery )?bypass", "Z95.1"),
    (r"\b(pci|ptca|coronary (artery )?stent\w*|stent\w* (placement|to))\b", "Z95.5"),
    (r"\bpacemaker\b", "Z95.0"),
    (r"\b(aicd|defibrillator)\b", "Z95.810"),
    (r"\b(tavr|avr|mvr|valve replacement)\b", "Z95.2"),
    (r"\b(appendectomy|cholecystectomy|chole|colectomy|hemicolectomy)\b", "Z90.49"),
    (r"\b(tka|tkr|knee (replacement|arthroplasty))\b",
     dict(zip(_SIDES, ("Z96.651", "Z96.652", "Z96.653", "Z96.659"), strict=True))),
    (r"\b(tha|thr|hip (replacement|arthroplasty))\b",
     dict(zip(_SIDES, ("Z96.641", "Z96.642", "Z96.643", "Z96.649"), strict=True))),
    (r"\bshoulder (replacement|arthroplasty)\b", {"right": "Z96.611", "left": "Z96.612", "": "Z96.619"}),
    (r"\bmastectomy\b", dict(zip(_SIDES, ("Z90.11", "Z90.12", "Z90.13", "Z90.10"), strict=True))),
    (r"\bcataract (surgery|extraction)\b", {"right": "Z98.41", "left": "Z98.42", "": "Z98.49"}),
    (r"\bnephrectomy\b", "Z90.5"), (r"\bsplenectomy\b", "Z90.81"),
    (r"\b(total |abdominal |vaginal |laparoscopic |robotic )*hysterectomy\b", "Z90.710"),
    (r"\bon (hemo)?dialysis\b|\bdialysis\b", "Z99.2"),
    (r"\b(kidney|renal) transplant\w*\b", "Z94.0"), (r"\bheart transplant\w*\b", "Z94.1"),
    (r"\blung transplant\w*\b", "Z94.2"), (r"\bliver transplant\w*\b", "Z94.4"),
    (r"\b(gastric bypass|bariatric surgery|sleeve gastrectomy|roux en y)\b", "Z98.84"),
    (r"\bcolostomy\b", "Z93.3"), (r"\bileostomy\b", "Z93.2"), (r"\btracheostomy\b", "Z93.0"),
    (r"\b(gastrostomy|peg tube)\b", "Z93.1"),
    (r"\bchemo(therapy)?\b", "Z92.21"), (r"\b(radiation|radiotherapy|xrt)\b", "Z92.3"),
)
_STATUS = tuple((re.compile(p), target) for p, target in STATUS)
_SIDE = re.compile(r"\b(bilateral|right|left)\b")


def history_code(table: tuple[tuple[str, str, str], ...], code: str, title: str) -> str | None:
    """The history code for an active code, by the longest matching row."""
    words = title.lower()
    rows = [(len(p), target) for p, word, target in table if code.startswith(p) and word in words]
    return max(rows)[1] if rows else None


def status_code(expanded: str) -> tuple[str, str] | None:
    """(code, words that named it) for a procedure's status, where the statement makes it clear;
    a sided procedure without a side gets the unspecified-side code."""
    for pattern, target in _STATUS:
        found = pattern.search(expanded)
        if not found:
            continue
        if isinstance(target, str):
            return target, found.group(0)
        side = _SIDE.search(expanded)
        key = side.group(1) if side and side.group(1) in target else ""
        return target[key], " ".join(w for w in (key, found.group(0)) if w)
    return None


def personal_word_code(expanded: str) -> tuple[str, str] | None:
    for pattern, code in _PERSONAL_WORDS:
        found = pattern.search(expanded)
        if found:
            return code, found.group(0)
    return None


def all_targets() -> set[str]:
    targets = {t for table in (PERSONAL, FAMILY) for _, _, t in table}
    targets.update(code for _, code in PERSONAL_WORDS)
    for _, target in STATUS:
        targets.update([target] if isinstance(target, str) else target.values())
    return targets
