"""Payers the pipeline knows: plan type and the windows that drive deadlines.

Windows are in days. A deployment replaces this table with its own contracts; unknown payers fall
back to DEFAULT.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Payer:
    payer_id: str
    name: str
    plan_type: str  # MEDICARE | MEDICAID | COMMERCIAL | SELF_PAY
    appeal_window_days: int
    timely_filing_days: int


PAYERS: dict[str, Payer] = {p.payer_id: p for p in (
    Payer("MEDICARE", "Medicare Part A/B", "MEDICARE", 120, 365),
    Payer("MEDICAID", "State Medicaid", "MEDICAID", 90, 180),
    Payer("COMM-ACME", "Acme Health Plan", "COMMERCIAL", 180, 90),
    Payer("COMM-BLUE", "Blue Valley Insurance", "COMMERCIAL", 180, 180),
    Payer("COMM-NORTH", "Northstar Health", "COMMERCIAL", 60, 90),
    Payer("COMM-UNITY", "Unity Care Plans", "COMMERCIAL", 90, 120),
    Payer("SELFPAY", "Self-pay", "SELF_PAY", 0, 0),
)}

DEFAULT = Payer("UNKNOWN", "Unknown payer", "COMMERCIAL", 90, 90)


def payer(payer_id: str) -> Payer:
    return PAYERS.get(payer_id, DEFAULT)
