"""Claim.item and ChargeItem -> VisitCharge lines.

charge_code: a coding in the hospital's charge-master system (CHARGE_SYSTEM, or
RCM_FHIR_CHARGE_SYSTEM / --charge-system), else the CPT/HCPCS code (with Claim.item.modifier) or,
for lines without one, the NUBC revenue code, looked up in the charge master; when several items
share it, the one whose price equals the line's unit price. Units from quantity (default 1); unit
price from unitPrice, else net / units, else the charge master's price; all integer cents.

A line whose code the charge master does not know (SNOMED CT, CVX, RxNorm in Synthea claims, or
a CPT code the hospital does not charge) is not a fault of the Claim: it posts with an empty
charge code and its `source_code` (system, code and description as sent) at its price as sent,
and the coding stage sends the encounter to coding review for a coder to give it a code. Such a
line without a price (the charge master cannot price a code it lacks), with a price of zero, or
with neither code nor description is a dead letter of its own (the Claim's other lines post). A
Claim item that only links a diagnosis (diagnosisSequence, no price) is no charge. Broken values
(a fraction of a cent, a negative price, a fractional quantity, no date) still refuse the whole
resource.
"""
from __future__ import annotations

from producers.fhir import parties
from producers.fhir.common import (
    CPT,
    HCPCS,
    REVENUE,
    MappingError,
    Skipped,
    cents,
    codings,
    content_hash,
    day,
    event_id,
    first_code,
    millis,
    whole,
)

SYSTEM_NAMES = {"http://snomed.info/sct": "SNOMED CT", "http://hl7.org/fhir/sid/cvx": "CVX",
                "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm",
                "http://hl7.org/fhir/sid/ndc": "NDC", "http://loinc.org": "LOINC"}


class Unmapped(MappingError):
    """A line whose code is not in the charge master: the line does not post, the rest does."""


def describe(concept) -> str:
    """`SNOMED CT 410620009 'Well child visit (procedure)'`: what a person needs to map it."""
    coding = next((c for c in getattr(concept, "coding", None) or [] if c.code), None)
    text = (getattr(concept, "text", None) or (coding.display if coding else None) or "").strip()
    what = f"{SYSTEM_NAMES.get(coding.system, coding.system or 'uncoded')} {coding.code}" if coding else "uncoded"
    return f"{what} '{text[:80]}'" if text else what


def source_code(concept, charge_system: str) -> dict | None:
    """The code and words the source sent (VisitCharge.source_code), None when it sent neither.
    The CPT/HCPCS or charge-system coding first, as that is the one looked up."""
    found = codings(concept, (charge_system, CPT, *HCPCS)) or \
        [c for c in getattr(concept, "coding", None) or [] if c.code and c.code.strip()]
    coding = found[0] if found else None
    text = (getattr(concept, "text", None) or (coding.display if coding else None) or "").strip()
    if coding is None and not text:
        return None
    return {"system": (coding.system or "") if coding else "",
            "code": coding.code.strip() if coding else None, "text": text or None}


def _foreign(concept, where: str, charge_system: str, unit_price: int | None, why: str) -> dict:
    """`source_code` of a line the charge master lacks (`why`), or the reason it cannot post."""
    src = source_code(concept, charge_system)
    if src is None:
        raise Unmapped(f"{where}: no code and no description")
    if unit_price is None or unit_price <= 0:
        raise Unmapped(f"{why}, and the line has {'no price' if unit_price is None else 'a zero price'}"
                       " (the charge master cannot price a code it lacks)")
    return src


def _lookup(concept, item, where: str, charge_master, unit_price: int | None) -> str:
    proc = first_code(concept, (CPT, *HCPCS))
    modifiers = tuple(c.code for m in getattr(item, "modifier", None) or [] for c in m.coding or [] if c.code)
    if proc:
        found = [i for i in charge_master.values() if i.procedure_code == proc]
        if modifiers:
            found = [i for i in found if set(modifiers) <= set(i.modifiers)]
        what = "CPT/HCPCS code"
    else:
        revenue = first_code(getattr(item, "revenue", None), REVENUE)
        if not revenue:
            raise Unmapped(f"{where}: {describe(concept)} has no charge-master, CPT/HCPCS or "
                           "revenue code")
        found = [i for i in charge_master.values() if i.revenue_code == revenue and not i.procedure_code]
        what = "revenue code"
    if len(found) > 1 and unit_price is not None:
        found = [i for i in found if i.unit_price_cents == unit_price] or found
    if not found:
        raise Unmapped(f"{where}: {what} is not in the charge master")
    if len(found) > 1:
        raise Unmapped(f"{where}: {what} matches {len(found)} charge-master items; send the "
                       "charge code")
    return found[0].charge_code


def _price(item, where: str, units: int) -> int | None:
    if item.unitPrice is not None:
        return cents(item.unitPrice.value, f"{where} unitPrice")
    if item.net is not None:
        net = cents(item.net.value, f"{where} net")
        if net % units:
            raise MappingError(f"{where}: net does not divide into {units} equal unit prices")
        return net // units
    return None


def _units(quantity, where: str) -> int:
    return whole(quantity.value, f"{where} quantity") if quantity and quantity.value is not None else 1


def _charge_code(concept, item, where: str, charge_master, charge_system: str, unit_price) -> str:
    code = first_code(concept, charge_system)
    if code is None:
        return _lookup(concept, item, where, charge_master, unit_price)
    if code not in charge_master:
        raise Unmapped(f"{where}: charge code is not in the charge master")
    return code


def concept_codes(concept) -> frozenset[tuple[str, str]]:
    return frozenset((c.system or "", c.code.strip()) for c in (getattr(concept, "coding", None) or [])
                     if c.code)


def charge_lines(claim, raw: dict, charge_master, charge_system: str,
                 encounter_types: frozenset[tuple[str, str]] = frozenset()) -> tuple[list[dict], list[str]]:
    """(the lines that post, the reasons of the lines that cannot be mapped).

    encounter_types: the (system, code) codings of the Encounter's type; an unpriced item coded
    as the encounter itself (Synthea's first item) is no service given."""
    claim_id = claim.id or content_hash(raw)
    lines, unmapped = [], []
    if not claim.item:
        raise MappingError("Claim has no items")
    for item in claim.item:
        where = f"Claim.item {item.sequence}"
        units = _units(item.quantity, where)
        unit_price = _price(item, where, units)
        if unit_price is not None and unit_price < 0:
            raise MappingError(f"{where}: negative unit price")
        served = day(item.servicedDate) or day(getattr(item.servicedPeriod, "start", None)) or \
            day(getattr(claim.billablePeriod, "start", None))
        if served is None:
            raise MappingError(f"{where}: no servicedDate, servicedPeriod or billablePeriod")
        src = None
        try:
            code = _charge_code(item.productOrService, item, where, charge_master, charge_system, unit_price)
        except Unmapped as why:
            if unit_price is None and (item.diagnosisSequence or item.informationSequence
                                       or concept_codes(item.productOrService) & encounter_types):
                # A diagnosis or information link, or the unpriced line that is the encounter
                # itself (Synthea's first item carries the Encounter's type): not a service given.
                continue
            try:
                code, src = "", _foreign(item.productOrService, where, charge_system, unit_price,
                                         str(why))
            except Unmapped as exc:
                unmapped.append(str(exc))
                continue
        if unit_price is None:
            unit_price = charge_master[code].unit_price_cents
        lines.append({"transaction_id": f"{claim_id}-{item.sequence}", "charge_code": code,
                      "units": units, "unit_price_cents": unit_price, "service_date": served,
                      "source_code": src})
    return lines, unmapped


SKIP_CHARGE_ITEM = ("planned", "not-billable", "aborted", "entered-in-error")


def _definition_price(item, index) -> int | None:
    """The base price of the ChargeItemDefinition the item names, if it is in the input."""
    urls = [u.split("|")[0] for u in (item.definitionCanonical or []) + (item.definitionUri or [])]
    for e in index.entries:
        model = e.model
        if model is None or e.resource_type != "ChargeItemDefinition" or model.url not in urls:
            continue
        for group in model.propertyGroup or []:
            for part in group.priceComponent or []:
                if part.type == "base" and part.amount is not None:
                    return cents(part.amount.value, "ChargeItemDefinition priceComponent base amount")
    return None


def _r5_amount(raw: dict, name: str) -> int | None:
    part = raw.get(name)
    amount = part.get("amount") if isinstance(part, dict) else None
    if not isinstance(amount, dict):
        return None
    return cents(amount.get("value"), f"ChargeItem.{name}.amount")


def charge_item_price(item, raw: dict, index, units: int) -> int | None:
    """Unit price: R4 priceOverride (the total) / units, R5 unitPriceComponent or
    totalPriceComponent / units, else the ChargeItemDefinition's base price; None: the charge
    master's."""
    total = cents(item.priceOverride.value, "ChargeItem.priceOverride") if item.priceOverride else None
    total = total if total is not None else _r5_amount(raw, "totalPriceComponent")
    unit = _r5_amount(raw, "unitPriceComponent")
    if unit is None and total is not None:
        if total % units:
            raise MappingError(f"ChargeItem: price does not divide into {units} equal unit prices")
        unit = total // units
    return unit if unit is not None else _definition_price(item, index)


def charge_item_event(entry, index, now_ms: int, charge_master, charge_system: str) -> dict:
    """ChargeItem -> VisitEvent CHARGES with one line (as a DFT's FT1): visit and account from
    context (the Encounter) and account; without an Encounter the account is the visit number,
    as the HL7 path takes the account for a DFT without PV1."""
    from producers.fhir.visits import bundle_time

    item = entry.model
    if item.status in SKIP_CHARGE_ITEM:
        raise Skipped(f"ChargeItem.status {item.status}: nothing to post")
    units = _units(item.quantity, "ChargeItem")
    unit_price = charge_item_price(item, entry.raw, index, units)
    if unit_price is not None and unit_price < 0:
        raise MappingError("ChargeItem: negative price")
    src = None
    try:
        code = _charge_code(item.code, item, "ChargeItem.code", charge_master, charge_system, unit_price)
    except Unmapped as why:  # kept as sent for coding review; refused without code, text or price
        code, src = "", _foreign(item.code, "ChargeItem.code", charge_system, unit_price, str(why))
    if unit_price is None:
        unit_price = charge_master[code].unit_price_cents
    served = day(item.occurrenceDateTime) or day(getattr(item.occurrencePeriod, "start", None)) or \
        day(item.enteredDate)
    if served is None:
        raise MappingError("ChargeItem has no occurrence[x] or enteredDate")
    enc = index.resolve(item.context, "Encounter") if item.context is not None else None
    named = (getattr(getattr(item.context, "identifier", None), "value", None) or "").strip() or None
    visit = parties.visit_number(enc) if enc is not None else named
    account = parties.account_from(item.account, index)
    if account is None and (enc is not None or visit):
        account = parties.account_id(enc, index, visit=visit)
    if account is None:
        raise MappingError("ChargeItem names no account (ChargeItem.account) and no visit "
                           "(ChargeItem.context)")
    visit = visit or account
    transaction = next((i.value.strip() for i in item.identifier or [] if i.value and i.value.strip()),
                       None) or item.id or content_hash(entry.raw)
    occurred = millis(item.enteredDate) or bundle_time(entry) or millis(served)
    return {"event_id": event_id(item, entry.raw), "kind": "CHARGES", "source": "fhir ChargeItem",
            "visit_number": visit, "account_id": account, "occurred_at": occurred,
            "emitted_at": now_ms, "diagnoses": [], "procedures_pcs": [],
            "charges": [{"transaction_id": transaction, "charge_code": code, "units": units,
                         "unit_price_cents": unit_price, "service_date": served,
                         "source_code": src}]}
