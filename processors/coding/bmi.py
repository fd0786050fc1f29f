"""Body mass index: the Z68 code beside the weight diagnosis it is written with.

"morbid obesity, BMI 42" is E66.01 with Z68.41. Adult BMI codes are for ages 20 and over; for
children and teenagers (2-19) the percentile for age is coded (Z68.5-), and a bare number is not
(guideline I.C.21.c.3: the BMI is documented by any clinician, the weight diagnosis by the
provider). Standard library only.
"""
from __future__ import annotations

import re

_VALUE = re.compile(r"[,;]?\s*\b(?:bmi|body mass index)\s*(?:of|=|:|is|was)?\s*(\d{1,2}(?:\.\d+)?)(?!\s*(?:st|nd|rd|th|%|percentile))\b"
                    r"(?:\s*kg/m2)?")
_PERCENTILE = re.compile(r"[,;]?\s*\b(?:bmi|body mass index)\s*(?:of|=|:|is|at|in the|at the)?\s*"
                         r"(?:>\s*|>=\s*|<\s*)?(\d{1,3})(?:st|nd|rd|th)?\s*(?:%ile|percentile|pctl|%)")


def adult_code(value: float) -> str:
    if value < 20:
        return "Z68.1"
    if value < 40:
        return f"Z68.{int(value)}"
    for upper, code in ((45, "Z68.41"), (50, "Z68.42"), (60, "Z68.43"), (70, "Z68.44")):
        if value < upper:
            return code
    return "Z68.45"


def pediatric_code(percentile: int) -> str:
    return "Z68.51" if percentile < 5 else "Z68.52" if percentile < 85 else "Z68.53" if percentile < 95 else "Z68.54"


def read(text: str, age: int | None) -> tuple[str, str, str] | None:
    """(Z68 code or "", the statement without its BMI, the words that gave it) when a BMI is written."""
    lowered = text.lower()
    found = _PERCENTILE.search(lowered)
    if found:
        code = pediatric_code(int(found.group(1))) if age is None or 2 <= age <= 19 else ""
        return code, (lowered[:found.start()] + " " + lowered[found.end():]).strip(" ,;"), found.group(0).strip(" ,;")
    found = _VALUE.search(lowered)
    if found:
        value = float(found.group(1))
        code = adult_code(value) if (age is None or age >= 20) and 10 <= value < 100 else ""
        return code, (lowered[:found.start()] + " " + lowered[found.end():]).strip(" ,;"), found.group(0).strip(" ,;")
    return None
