"""ClaimResponse / ExplanationOfBenefit -> RemittanceReceived (on remittances-unmatched).

Per item, from adjudication categories (HL7 adjudication, CARIN BB C4BBAdjudication and
C4BBAdjudicationDiscriminator codes, and the CMS Blue Button variables Synthea writes, by code):
submitted -> charge; benefit (or paidtoprovider) -> paid; submitted - eligible -> CO 45;
deductible -> PR 1; coinsurance -> PR 2; copay -> PR 3; priorpayerpaid -> OA 23 (a prior payer's
adjudication); paidtopatient -> PR 100 (paid to the patient, who owes it); an adjudication with a CARC reason
(x12.org claim-adjustment-reason-codes) and an amount -> that CARC, group CO unless a coding in
x12.org claim-adjustment-group-codes names another; a CARC reason without an amount takes what
is left of the line (a denied line). Without `eligible`, what is left is CO 45. Categories that
restate other amounts (paidbypatient, memberliability, ...) and informational ones without an
amount (allowedunits, inoutnetwork, benefitpaymentstatus, a processing indicator) are read past;
an unknown category with an amount is an error. Amounts are rounded to the cent (a payer's
percentage arithmetic: Synthea writes 20% of 287.99 as 57.598). An item with no amount at all
(Synthea's encounter line) is no line. RARC reason codings
are remarks. Amounts that exceed the submitted charge, or are left unexplained, are an error.
claim_status: 4 (denied) when nothing is paid and nothing is the patient's, else 1.
"""
from __future__ import annotations

from producers.fhir import parties
from producers.fhir.common import (
    ADJUDICATION,
    BLUE_BUTTON_ADJUDICATION,
    CARC,
    CAS_GROUP,
    CPT,
    HCPCS,
    RARC,
    MappingError,
    Skipped,
    cents,
    content_hash,
    event_id,
    first_code,
    millis,
    whole,
)

PATIENT_SHARE = {"copay": "3", "deductible": "1", "coinsurance": "2", "paidtopatient": "100"}
OTHER_PAYER = {"priorpayerpaid": ("OA", "23")}
BLUE_BUTTON = {"line_sbmtd_chrg_amt": "submitted", "line_alowd_chrg_amt": "eligible",
               "line_prvdr_pmt_amt": "paidtoprovider", "line_coinsrnc_amt": "coinsurance",
               "line_bene_ptb_ddctbl_amt": "deductible", "line_bene_prmry_pyr_pd_amt": "priorpayerpaid",
               "line_nch_pmt_amt": "restated", "line_bene_pmt_amt": "paidbypatient"}
PAID = ("benefit", "paidtoprovider")
# Categories that restate other amounts (percentages, totals of the patient's share): not adjustments.
RESTATED = ("eligpercent", "memberliability", "paidbypatient", "unallocdeduct", "tax", "drugcost",
            "discount", "noncovered", "denialreason", "adjustmentreason", "submitted", "eligible",
            "restated")


def _category(adj) -> str:
    code = first_code(adj.category, ADJUDICATION)
    if code:
        return code
    variable = first_code(adj.category, BLUE_BUTTON_ADJUDICATION)
    if variable:
        return BLUE_BUTTON.get(variable.rsplit("/", 1)[-1], variable.rsplit("/", 1)[-1])
    return next((c.code for c in adj.category.coding or [] if c.code), "")


def _line(adjudications, where: str, submitted: int | None) -> tuple[int, int, list[dict], list[str]]:
    """(charge, paid, adjustments, remarks) of one item's (or the claim's) adjudications."""
    amounts: dict[str, int] = {}
    explicit, remarks, open_carc = [], [], None
    for adj in adjudications or []:
        cat = _category(adj)
        amount = cents(adj.amount.value, f"{where} {cat}", round_to_cent=True) \
            if adj.amount is not None and adj.amount.value is not None else None
        reason = getattr(adj, "reason", None)  # a ClaimResponse.total has none
        carc = first_code(reason, CARC)
        remarks += [c.code for c in (reason.coding or [] if reason else []) if c.system == RARC]
        if cat in OTHER_PAYER and amount and not carc:
            group, code = OTHER_PAYER[cat]
            explicit.append({"group_code": group, "reason_code": code, "amount_cents": amount})
        elif carc and cat not in PATIENT_SHARE and cat not in PAID:
            group = first_code(reason, CAS_GROUP) or "CO"
            if amount:
                explicit.append({"group_code": group, "reason_code": carc, "amount_cents": amount})
            else:
                open_carc = (group, carc)
        elif carc and open_carc is None and not amount:
            open_carc = (first_code(reason, CAS_GROUP) or "CO", carc)
        if amount is not None and (cat in PATIENT_SHARE or cat in PAID or cat in ("submitted", "eligible")):
            amounts[cat] = amounts.get(cat, 0) + amount
        elif amount is not None and cat not in RESTATED and cat not in PATIENT_SHARE and \
                cat not in PAID and cat not in OTHER_PAYER:
            raise MappingError(f"{where}: adjudication category {cat or '(none)'} is not understood")
    charge = amounts.get("submitted", submitted)
    if charge is None:
        raise MappingError(f"{where}: no submitted amount")
    paid = sum(amounts.get(c, 0) for c in PAID)
    adjustments = []
    eligible = amounts.get("eligible")
    share = [{"group_code": "PR", "reason_code": r, "amount_cents": amounts[c]}
             for c, r in PATIENT_SHARE.items() if amounts.get(c)]
    left = charge - paid - sum(a["amount_cents"] for a in share + explicit)
    if eligible is not None and 0 < charge - eligible <= left:
        adjustments.append({"group_code": "CO", "reason_code": "45", "amount_cents": charge - eligible})
        left -= charge - eligible
    elif eligible is not None and charge - eligible > left and not (open_carc or explicit):
        raise MappingError(f"{where}: paid and patient share exceed the eligible amount")
    adjustments += share + explicit
    if left < 0:
        raise MappingError(f"{where}: paid and adjustments exceed the submitted amount")
    if left > 0:
        if open_carc:
            adjustments.append({"group_code": open_carc[0], "reason_code": open_carc[1], "amount_cents": left})
        elif eligible is None:
            adjustments.append({"group_code": "CO", "reason_code": "45", "amount_cents": left})
        else:
            raise MappingError(f"{where}: submitted minus paid and adjustments leaves an unexplained amount")
    return charge, paid, adjustments, remarks


def _claim(resource, index):
    ref = resource.request if resource.get_resource_type() == "ClaimResponse" else resource.claim
    claim = index.resolve(ref, "Claim") if ref is not None else None
    claim_id = ref.identifier.value if ref is not None and ref.identifier is not None else None
    if claim is None and claim_id:  # a logical reference: the Claim may still be in the input
        claim = index.by_identifier("Claim", claim_id)
    if claim_id is None and claim is not None:  # Synthea's Claims have no identifier: their id
        claim_id = next((i.value for i in claim.identifier or [] if i.value), None) or claim.id
    if not claim_id:
        what = "request" if resource.get_resource_type() == "ClaimResponse" else "claim"
        raise MappingError(f"{what} names no Claim identifier (a logical reference, or a Claim "
                           "with an identifier in the input)")
    return claim, claim_id.strip()


def _account(claim, index) -> str:
    from producers.fhir.visits import _claim_encounter

    if claim is None:
        return ""
    try:
        enc, _ = _claim_encounter(claim, index)
        return parties.account_id(enc, index, also=(claim,))
    except MappingError:
        return ""


def _procedure(item, claim_item, charge_master) -> tuple[str, int]:
    source = item if getattr(item, "productOrService", None) is not None else claim_item
    if source is None:
        return "", 1
    code = first_code(source.productOrService, (CPT, *HCPCS)) or ""
    if not code:
        charge = next((c.code for c in source.productOrService.coding or []
                       if c.code in charge_master), None)
        if charge:
            code = charge_master[charge].procedure_code or charge_master[charge].revenue_code
    units = whole(source.quantity.value, "quantity") if source.quantity and source.quantity.value else 1
    return code, units


def remittance_event(entry, index, now_ms: int, charge_master) -> dict:
    res = entry.model
    kind = res.get_resource_type()
    if res.status in ("cancelled", "entered-in-error", "draft"):
        raise Skipped(f"{kind}.status {res.status}: no payment to post")
    if res.outcome in ("queued", "error"):
        raise Skipped(f"{kind}.outcome {res.outcome}: not adjudicated, no remittance")
    claim, claim_id = _claim(res, index)
    claim_items = {i.sequence: i for i in (claim.item if claim is not None else None) or []}
    lines = []
    for item in res.item or []:
        seq = item.itemSequence if kind == "ClaimResponse" else item.sequence
        claim_item = claim_items.get(seq)
        submitted = None
        if claim_item is not None and claim_item.net is not None:
            submitted = cents(claim_item.net.value, f"Claim.item {seq} net")
        if submitted is None and not any(a.amount is not None for a in item.adjudication or []):
            continue  # nothing charged, nothing adjudicated (Synthea's encounter line)
        charge, paid, adjustments, remarks = _line(item.adjudication, f"{kind}.item {seq}", submitted)
        code, units = _procedure(item, claim_item, charge_master)
        lines.append({"line": seq, "procedure_code": code, "units": units, "charge_cents": charge,
                      "paid_cents": paid, "adjustments": adjustments, "remarks": remarks})
    claim_adjustments, remarks = [], []
    if not lines and res.item and not (res.adjudication or res.total):
        raise MappingError(f"{kind} has no item with an amount and no adjudication")
    if lines:
        level = [a for a in res.adjudication or [] if a.amount is None]  # claim-level remarks only
        remarks = [c.code for a in level for c in (a.reason.coding if a.reason else []) if c.system == RARC]
        total_charge = sum(ln["charge_cents"] for ln in lines)
        total_paid = sum(ln["paid_cents"] for ln in lines)
    elif res.adjudication or res.total:
        total_charge, total_paid, claim_adjustments, remarks = _line(
            res.adjudication or res.total, f"{kind} (claim level)", None)
    else:
        raise MappingError(f"{kind} has no items and no adjudication")
    every = claim_adjustments + [a for ln in lines for a in ln["adjustments"]]
    patient = sum(a["amount_cents"] for a in every if a["group_code"] == "PR")
    denied = any(a["reason_code"] != "45" and a["group_code"] != "PR" for a in every)
    payer_id = parties._identifier_of(res.insurer, index, ("Organization",)) or \
        (res.insurer.display or "").strip() if res.insurer is not None else None
    if not payer_id:
        raise MappingError(f"{kind}.insurer names no payer identifier (nor a display name)")
    payment = res.payment
    ident = next((i.value for i in res.identifier or [] if i.value), "")
    return {
        "event_id": event_id(res, entry.raw), "remittance_id": f"{kind}/{res.id or content_hash(entry.raw)}",
        "account_id": _account(claim, index), "claim_id": claim_id,
        "occurred_at": millis(res.created), "emitted_at": now_ms, "payer_id": payer_id,
        "payer_claim_control_number": ident,
        "trace_number": (payment.identifier.value or "") if payment and payment.identifier else "",
        "claim_status": "4" if total_paid == 0 and patient == 0 and denied else "1",
        "total_charge_cents": total_charge, "total_paid_cents": total_paid,
        "patient_responsibility_cents": patient, "claim_adjustments": claim_adjustments,
        "lines": lines, "remarks": remarks,
    }
