"""Amounts typed by people: dollars and cents as text, to integer cents (never a float)."""
from __future__ import annotations

import re
from decimal import Decimal

_AMOUNT = re.compile(r"^\$?\s*(\d{1,9})(?:\.(\d{1,2}))?$")


def cents(text: str) -> int:
    found = _AMOUNT.match(text.strip().replace(",", ""))
    if not found:
        raise ValueError(f"{text.strip()[:20]!r} is not an amount: write dollars and cents, "
                         "e.g. 25.00")
    value = int(Decimal(f"{found[1]}.{(found[2] or '0').ljust(2, '0')}") * 100)
    if value <= 0:
        raise ValueError("the amount must be more than zero")
    return value
