"""The tables of processors.coding.coder (data only): statements rewritten before coding.

The coder compiles them case-insensitively.
"""
from __future__ import annotations

# A routine examination, however it is written ("2 month well visit", "annual physical", "AWV").
WELL_VISIT = (
    r"^\s*(?:(?:medicare|routine|annual|yearly|\d+\s*(?:mo|mos|month|months|m|yo|y/o|y\.o\.|yr|year|years|wk|wks|week|"
    r"weeks)(?: old)?)\s+)*(?:well(?:[- ](?:child|baby|infant|adult))?(?:\s+(?:check|visit|exam|care|"
    r"checkup|check-up))?|wellness(?:\s+(?:visit|exam|check))?|awv|physical(?: exam)?|exam|check-?up|"
    r"health maintenance(?: exam| visit)?|preventive (?:visit|exam|care))(?:\s*,?\s*(?:\d+\s*(?:mo|mos|month|months|"
    r"yo|y/o|yr|year|years)(?: old)?|without abnormal findings|no abnormal findings|normal))*\s*$")
# Shorthand that names two conditions, rewritten as a ";" list: "N/V/D", "AKI on CKD 3", "AFib on
# Eliquis" (the drug is a long-term use code beside the condition, Z79.x).
LISTS: tuple[tuple[str, str], ...] = (
    (r"\bn/v/d\b", "n/v; diarrhea"),
    ((r"(?:[,;]\s*|\s+|^)(?:on (?:home |supplemental |continuous |nocturnal |chronic )?(?:o2|oxygen)|"
     r"(?:o2|oxygen)[- ]dependen\w*|home (?:o2|oxygen))\b(?: therapy)?"), "; dependence on supplemental oxygen"),
    ((r"\b(esrd|eskd|end stage renal disease)\s+(?:on|requiring|w/|with|,)\s*(?:hd|hemodialysis|dialysis|pd|"
     r"peritoneal dialysis)\b"), r"\1; on dialysis"),
    (r"\bmetastatic (.+?) to (?:the )?(bones?|brain|liver|lungs?)\b", r"\1; secondary malignant neoplasm of \2"),
    ((r"\s*(?:,|\bwith\b|\bw/|\band\b)\s*(bone|brain|liver|lung|pulmonary|hepatic|osseous) (?:mets|metastases|metastasis|"
     r"metastatic disease)\b"), r"; secondary malignant neoplasm of \1"),
    (r"\b(aki|acute kidney injury|acute renal failure|arf)\s+on\s+(ckd|chronic kidney disease|chronic renal)", r"\1; \2"),
    ((r"(?:[,;]\s*|\s+)?\b(?:on|takes|taking|maintained on|chronic|long[- ]term|current)?\s*(?:warfarin|coumadin|eliquis|"
     r"apixaban|xarelto|rivaroxaban|dabigatran|pradaxa|edoxaban|anticoagulation|anticoagulants?|doac|noac)\b"
     r"(?:\s+(?:therapy|use))?"), "; long term current use of anticoagulants"),
    ((r"(?:[,;]\s*|\s+)?\b(?:on|takes|taking|chronic|long[- ]term|current)\s+(?:plavix|clopidogrel|ticagrelor|brilinta|"
     r"prasugrel|antiplatelets?|aspirin|asa)\b(?:\s+(?:therapy|use))?"), "; long term current use of antiplatelet drugs"),
)
