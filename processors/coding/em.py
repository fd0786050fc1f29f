"""Evaluation and management (E/M) levels of office and ED visits, from the documented fields.

Office visits (AMA/CMS guidelines from 2021): the level is chosen by medical decision making (MDM)
or by total practitioner time on the date of the encounter, whichever supports the higher level;
99211 is selectable by neither. ED visits (from 2023): by MDM only, time does not count, and 99281
needs no practitioner MDM, so MDM never selects it. CPT codes are opaque strings here.
Standard library only.
"""
from __future__ import annotations

from dataclasses import dataclass

MDM_LEVELS = ("STRAIGHTFORWARD", "LOW", "MODERATE", "HIGH")
# The level each MDM level supports, in MDM order, and the total minutes each level needs (met or
# exceeded), in the same order.
OFFICE_NEW = ("99202", "99203", "99204", "99205")
OFFICE_ESTABLISHED = ("99212", "99213", "99214", "99215")
EMERGENCY = ("99282", "99283", "99284", "99285")
NEW_MINUTES = (15, 30, 45, 60)
ESTABLISHED_MINUTES = (10, 20, 30, 40)
OFFICE_LEVELS = {"NEW": (OFFICE_NEW, NEW_MINUTES), "ESTABLISHED": (OFFICE_ESTABLISHED, ESTABLISHED_MINUTES)}

EM_CODES = frozenset({*OFFICE_NEW, "99211", *OFFICE_ESTABLISHED, "99281", *EMERGENCY})
CHECKED_CLASSES = ("OFFICE", "EMERGENCY")
MINUTES_IN_A_DAY = 24 * 60


@dataclass(frozen=True)
class EmLevel:
    code: str | None  # the level the documentation supports; None when it supports none
    explanation: str  # "MDM moderate supports 99214; 25 min supports 99213"


def is_em_code(code: str) -> bool:
    return code in EM_CODES


def documented(em: dict | None) -> bool:
    return em is not None and any(v is not None for v in em.values())


def em_problems(encounter_class: str, em: dict | None) -> list[str]:
    """Documentation no visit can have (the encounter is rejected); empty when it is possible."""
    if not em:
        return []
    problems = []
    status, minutes = em.get("patient_status"), em.get("total_minutes")
    if status is not None and encounter_class != "OFFICE":
        problems.append(f"E/M patient status {status} applies to office visits only, "
                        f"not {encounter_class}")
    if minutes is not None and not 0 <= minutes <= MINUTES_IN_A_DAY:
        problems.append(f"E/M total minutes {minutes} is outside 0..{MINUTES_IN_A_DAY}")
    return problems


def supported_level(encounter_class: str, em: dict | None) -> EmLevel | None:
    """The E/M level the documentation supports; None when there is nothing to check (no
    documentation, or a class other than office and ED)."""
    if encounter_class not in CHECKED_CLASSES or em is None or not documented(em):
        return None
    mdm, minutes = em.get("mdm_level"), em.get("total_minutes")
    if encounter_class == "EMERGENCY":
        return _emergency(mdm, minutes)
    status = em.get("patient_status")
    if status not in OFFICE_LEVELS:
        return EmLevel(None, "new or established patient not documented")
    codes, thresholds = OFFICE_LEVELS[status]
    best, parts = -1, []
    if mdm is not None:
        best = MDM_LEVELS.index(mdm)
        parts.append(f"MDM {mdm.lower()} supports {codes[best]}")
    if minutes is not None:
        by_time = sum(1 for t in thresholds if minutes >= t) - 1
        parts.append(f"{minutes} min supports {codes[by_time]}" if by_time >= 0 else
                     f"{minutes} min supports no level (under {thresholds[0]})")
        best = max(best, by_time)
    if not parts:
        return EmLevel(None, "neither MDM nor total time documented")
    return EmLevel(codes[best] if best >= 0 else None, "; ".join(parts))


def _emergency(mdm: str | None, minutes: int | None) -> EmLevel:
    time_note = "; time does not count for ED visits" if minutes is not None else ""
    if mdm is None:
        return EmLevel(None, "MDM not documented" + time_note)
    code = EMERGENCY[MDM_LEVELS.index(mdm)]
    return EmLevel(code, f"MDM {mdm.lower()} supports {code}{time_note}")


def review_reasons(encounter_class: str, em: dict | None, billed: list[tuple[int, str]]) -> list[str]:
    """What a coder must settle between the billed E/M lines ((line, procedure code) of every
    charge line) and the documentation; empty when they agree or nothing is documented."""
    level = supported_level(encounter_class, em)
    if level is None:
        return []
    support = (f"documentation supports {level.code} ({level.explanation})" if level.code else
               f"documentation supports no E/M level ({level.explanation})")
    lines = [(n, code) for n, code in billed if is_em_code(code)]
    if not lines:
        return [f"E/M: no E/M line is billed; {support}"]
    return [f"E/M: line {n} bills {code}{_direction(code, level.code)}; {support}"
            for n, code in lines if code != level.code]


def _direction(billed: str, supported: str | None) -> str:
    if supported is None or billed[:4] != supported[:4]:  # another family (new, established, ED)
        return ""
    return " (over-coded)" if billed > supported else " (under-coded)"
