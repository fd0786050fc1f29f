"""Which charge-master item an FT1 line is, or how it was sent when the charge master lacks it.

FT1-7 (transaction code, CE/CWE `code^text^system`) is the hospital's charge code. When the charge
master has it, that is the line. Otherwise a CPT/HCPCS code, FT1-25 (procedure code, with the
FT1-26 modifiers) or FT1-7 itself when FT1-7.3 names CPT/HCPCS, finds the item that bills it,
when exactly one does (several: the one priced as the line). A line still unknown goes to coding
review with its `source_code` (VisitCharge): the CPT/HCPCS code when one was sent (what a coder
can bill), else FT1-7 as sent; the words from FT1-8, else FT1-7.2, else FT1-25.2.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# HL7 table 0396 (and common variants) naming CPT or HCPCS.
PROCEDURE_SYSTEMS = {"C4", "C5", "CPT", "CPT4", "CPT-4", "HCPCS", "HCPT", "HC", "HCPC",
                     "2.16.840.1.113883.6.12", "2.16.840.1.113883.6.285"}


@dataclass(frozen=True)
class Coded:
    """A CE/CWE element as sent."""
    code: str = ""
    text: str = ""
    system: str = ""


def procedure(transaction: Coded, procedure_code: Coded) -> Coded | None:
    """The CPT/HCPCS code of the line: FT1-25 unless it names another system, else FT1-7 when
    FT1-7.3 says CPT/HCPCS."""
    if procedure_code.code and (not procedure_code.system
                                or procedure_code.system.upper() in PROCEDURE_SYSTEMS):
        return procedure_code
    if transaction.code and transaction.system.upper() in PROCEDURE_SYSTEMS:
        return transaction
    return None


def known(charge_master: Mapping, transaction: Coded, procedure_code: Coded,
          modifiers: tuple[str, ...], unit_price: int | None) -> str | None:
    """The charge-master code of the line, None when the charge master lacks it."""
    if transaction.code in charge_master:
        return transaction.code
    proc = procedure(transaction, procedure_code)
    if proc is None:
        return None
    found = [i for i in charge_master.values() if i.procedure_code == proc.code]
    if modifiers:
        found = [i for i in found if set(modifiers) <= set(i.modifiers)]
    if len(found) > 1 and unit_price is not None:
        found = [i for i in found if i.unit_price_cents == unit_price] or found
    return found[0].charge_code if len(found) == 1 else None


def source_code(transaction: Coded, procedure_code: Coded, description: str) -> dict | None:
    """VisitCharge.source_code of a line the charge master lacks; None when it names nothing."""
    coded = procedure(transaction, procedure_code) or transaction
    text = description or transaction.text or procedure_code.text
    if not coded.code and not text:
        return None
    return {"system": coded.system if coded.code else "", "code": coded.code or None,
            "text": text or None}
