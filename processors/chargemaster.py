"""The hospital's charge master: the priced items a charge line may name.

A deployment points RCM_CHARGE_MASTER at its own CSV (read at the edge and passed in as `path`);
the packaged file is a small synthetic one. Procedure codes are opaque strings from the hospital's
licensed files; descriptions are our own words.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PATH = Path(__file__).parent / "data" / "charge_master.csv"


@dataclass(frozen=True)
class ChargeItem:
    charge_code: str
    procedure_code: str  # CPT/HCPCS; "" for revenue-code-only lines (room and board, pharmacy)
    modifiers: tuple[str, ...]
    revenue_code: str
    unit_price_cents: int
    description: str
    classes: tuple[str, ...]  # encounter classes where the item is used
    sex: str  # "" or "F"/"M" when the item only fits one sex


def _split(cell: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in cell.split("|") if part.strip())


def parse_row(row: dict[str, str]) -> ChargeItem:
    return ChargeItem(
        charge_code=row["charge_code"].strip(),
        procedure_code=row["procedure_code"].strip(),
        modifiers=_split(row.get("modifiers") or ""),
        revenue_code=row["revenue_code"].strip(),
        unit_price_cents=int(row["unit_price_cents"]),
        description=row["description"].strip(),
        classes=_split(row.get("classes") or ""),
        sex=(row.get("sex") or "").strip().upper(),
    )


def load_charge_master(path: str | Path | None = None) -> dict[str, ChargeItem]:
    with open(path or DEFAULT_PATH, newline="", encoding="utf-8") as fh:
        items = [parse_row(row) for row in csv.DictReader(fh)]
    return {item.charge_code: item for item in items}
