"""What a hospital's coded fields mean to billing: diagnoses, procedures, the attending provider.

Real feeds code diagnoses in ICD-10-CM, SNOMED CT or still ICD-9-CM, list CPT procedures in PR1,
and name doctors by local ids. None of that refuses a message: a diagnosis in another system keeps
its words for the coder with the foreign code noted; a non-ICD-10-PCS procedure is left to the charge
lines; a provider id is kept as the hospital sent it (the 837 gets the NPI from the billing
directory). Only what cannot be read at all is refused.
"""
from __future__ import annotations

import re

from schemas.accounts import check_digit

ICD10CM_SYSTEMS = {"I10", "I10C", "ICD10", "ICD10CM", "ICD-10", "ICD-10-CM", "ICD10-CM",
                   "2.16.840.1.113883.6.90"}
ICD10PCS_SYSTEMS = {"I10P", "ICD10PCS", "ICD-10-PCS", "2.16.840.1.113883.6.4"}
# Names for the foreign systems a coder will recognise (HL7 table 0396 and the HL7 OIDs).
SYSTEM_NAMES = {"SCT": "SNOMED CT", "SNM": "SNOMED", "SNM3": "SNOMED", "SNOMED": "SNOMED CT",
                "SNOMED-CT": "SNOMED CT", "SNOMEDCT": "SNOMED CT",
                "2.16.840.1.113883.6.96": "SNOMED CT", "I9": "ICD-9-CM", "I9C": "ICD-9-CM",
                "ICD9": "ICD-9-CM", "ICD9CM": "ICD-9-CM", "ICD-9-CM": "ICD-9-CM",
                "2.16.840.1.113883.6.103": "ICD-9-CM", "C4": "CPT", "CPT": "CPT", "CPT4": "CPT",
                "2.16.840.1.113883.6.12": "CPT", "HCPCS": "HCPCS", "HCPT": "HCPCS"}
ICD10CM_SHAPE = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$")
PCS_SHAPE = re.compile(r"^[0-9A-HJ-NP-Z]{7}$")  # ICD-10-PCS uses neither O nor I
NPI_TYPES = {"NPI", "2.16.840.1.113883.4.6"}


def is_npi(value: str) -> bool:
    """Ten digits whose last is the Luhn check digit over 80840 + the first nine (CMS)."""
    return len(value) == 10 and value.isdigit() and check_digit("80840" + value[:9]) == value[9]


def diagnosis(code: str, system: str, text: str, alternate: tuple[str, str, str]) -> tuple[str, str | None]:
    """(text, ICD-10-CM code or None) for a DG1-3 coded element (code, system, text) and its
    alternate triplet. A code in another system is kept in the text for the coder."""
    system = system.upper()
    alt_code, alt_system, alt_text = alternate
    if _is_icd10cm(code, system):
        return text, code
    if alt_code and _is_icd10cm(alt_code, alt_system.upper()):
        return text or alt_text, alt_code
    if not code:
        return text, None
    note = f"[{SYSTEM_NAMES.get(system, system)} {code}]" if system else f"[code {code}, no system]"
    return (f"{text} {note}" if text else note), None


def _is_icd10cm(code: str, system: str) -> bool:
    if not code:
        return False
    if system:
        return system in ICD10CM_SYSTEMS
    return bool(ICD10CM_SHAPE.match(code.upper()))


def is_pcs(code: str, system: str) -> bool | None:
    """True: an ICD-10-PCS procedure; False: a procedure in another system (CPT, SNOMED...), which
    the charge lines bill; None: said to be ICD-10-PCS but not shaped like one (refused)."""
    system = system.upper()
    if system in ICD10PCS_SYSTEMS:
        return True if PCS_SHAPE.match(code) else None
    if system:
        return False
    return bool(PCS_SHAPE.match(code))


def provider_id(ids: list[tuple[str, str, str]]) -> str | None:
    """The attending provider's id from PV1-7's repetitions (id, assigning authority, identifier
    type): the one marked or shaped as an NPI, else the first, as the hospital sent it."""
    ids = [i for i in ids if i[0]]
    for value, authority, kind in ids:
        if authority.upper() in NPI_TYPES or kind.upper() in NPI_TYPES or is_npi(value):
            return value
    return ids[0][0] if ids else None
