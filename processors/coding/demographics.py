"""Which diagnoses fit which patients: a small, deliberately partial table of our own.

The full Medicare Code Editor age/sex tables are a later issue; these catch the errors that
payers deny most often (pregnancy codes on men, newborn codes on adults, prostate codes on women).
"""
from __future__ import annotations

PREGNANCY_AGES = (12, 55)
_PREGNANCY = ("O", "Z33", "Z34", "Z3A")
_NEWBORN = ("P", "Z38")
_CHILD_EXAM = ("Z00.11", "Z00.12")
_ADULT_EXAM = ("Z00.0",)
_MALE_ONLY = ("N40", "N41", "N42", "N43", "N44", "N45", "N46", "N47", "N48", "N49", "N50", "N51",
              "N52", "N53", "C60", "C61", "C62", "C63", "D29", "D40", "R97.2", "Z12.5")
_FEMALE_ONLY = tuple(f"N{n}" for n in range(70, 99)) + tuple(f"C{n}" for n in range(51, 59)) + (
    "D06", "D25", "D26", "D27", "D28", "D39", "Z12.4", "Z01.41") + _PREGNANCY


def _words(description: str) -> set[str]:
    return set(description.lower().replace(",", " ").replace("(", " ").replace(")", " ").split())


def conflicts(code: str, description: str, age: int | None, sex: str) -> list[tuple[str, str]]:
    """(edit id, message) for each way the code does not fit a patient of this age and sex."""
    found: list[tuple[str, str]] = []
    words = _words(description)
    both = "female" in words and "male" in words  # "Stress incontinence (female) (male)"
    if sex == "M" and (code.startswith(_FEMALE_ONLY) or ("female" in words and not both)):
        found.append(("SEX_CONFLICT", f"{code} is for female patients only; patient is male"))
    if sex == "F" and (code.startswith(_MALE_ONLY) or ("male" in words and not both)):
        found.append(("SEX_CONFLICT", f"{code} is for male patients only; patient is female"))
    if age is None:
        return found
    low, high = PREGNANCY_AGES
    if code.startswith(_PREGNANCY) and not low <= age <= high:
        found.append(("AGE_CONFLICT", f"pregnancy code {code} needs age {low}-{high}; patient is {age}"))
    if code.startswith(_NEWBORN) and age > 0:
        found.append(("AGE_CONFLICT", f"newborn code {code} needs age 0; patient is {age}"))
    if code.startswith(_CHILD_EXAM) and age > 17:
        found.append(("AGE_CONFLICT", f"child examination code {code} needs age 0-17; patient is {age}"))
    if code.startswith(_ADULT_EXAM) and age < 18:
        found.append(("AGE_CONFLICT", f"adult examination code {code} needs age 18+; patient is {age}"))
    return found
