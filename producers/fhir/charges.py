"""Claim.item -> VisitCharge lines.

charge_code: a productOrService coding in the hospital's charge-master system (CHARGE_SYSTEM, or
RCM_FHIR_CHARGE_SYSTEM / --charge-system), else the CPT/HCPCS code (with Claim.item.modifier) or,
for lines without one, the NUBC revenue code, looked up in the charge master; when several items
share it, the one whose price equals the line's unit price. Units from quantity (default 1); unit
price from unitPrice, else net / units, else the charge master's price; all exact integer cents.
"""
from __future__ import annotations

from producers.fhir.common import (
    CPT,
    HCPCS,
    REVENUE,
    MappingError,
    cents,
    content_hash,
    day,
    first_code,
    whole,
)


def _lookup(item, where: str, charge_master, unit_price: int | None) -> str:
    proc = first_code(item.productOrService, (CPT, *HCPCS))
    modifiers = tuple(c.code for m in item.modifier or [] for c in m.coding or [] if c.code)
    if proc:
        found = [i for i in charge_master.values() if i.procedure_code == proc]
        if modifiers:
            found = [i for i in found if set(modifiers) <= set(i.modifiers)]
        what = "CPT/HCPCS code"
    else:
        revenue = first_code(item.revenue, REVENUE)
        if not revenue:
            raise MappingError(f"{where}: productOrService has no charge-master, CPT or HCPCS "
                               "coding and the line no revenue code")
        found = [i for i in charge_master.values() if i.revenue_code == revenue and not i.procedure_code]
        what = "revenue code"
    if len(found) > 1 and unit_price is not None:
        found = [i for i in found if i.unit_price_cents == unit_price] or found
    if not found:
        raise MappingError(f"{where}: {what} is not in the charge master")
    if len(found) > 1:
        raise MappingError(f"{where}: {what} matches {len(found)} charge-master items; send the "
                           "charge code")
    return found[0].charge_code


def charge_lines(claim, raw: dict, charge_master, charge_system: str) -> list[dict]:
    claim_id = claim.id or content_hash(raw)
    lines = []
    for item in claim.item or []:
        where = f"Claim.item {item.sequence}"
        units = whole(item.quantity.value, f"{where} quantity") if item.quantity and \
            item.quantity.value is not None else 1
        if item.unitPrice is not None:
            unit_price = cents(item.unitPrice.value, f"{where} unitPrice")
        elif item.net is not None:
            net = cents(item.net.value, f"{where} net")
            if net % units:
                raise MappingError(f"{where}: net does not divide into {units} equal unit prices")
            unit_price = net // units
        else:
            unit_price = None
        code = first_code(item.productOrService, charge_system)
        if code is None:
            code = _lookup(item, where, charge_master, unit_price)
        elif code not in charge_master:
            raise MappingError(f"{where}: charge code is not in the charge master")
        if unit_price is None:
            unit_price = charge_master[code].unit_price_cents
        if unit_price < 0:
            raise MappingError(f"{where}: negative unit price")
        served = day(item.servicedDate) or day(getattr(item.servicedPeriod, "start", None)) or \
            day(getattr(claim.billablePeriod, "start", None))
        if served is None:
            raise MappingError(f"{where}: no servicedDate, servicedPeriod or billablePeriod")
        lines.append({"transaction_id": f"{claim_id}-{item.sequence}", "charge_code": code,
                      "units": units, "unit_price_cents": unit_price, "service_date": served})
    if not lines:
        raise MappingError("Claim has no items")
    return lines
