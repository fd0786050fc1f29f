"""X12 835 (005010X221A1) -> RemittanceReceived, one per claim payment (CLP loop).

Amounts are integer cents parsed as Decimal. The account is not known here (the payer echoes the
claim id, CLP01), so every remittance leaves with account_id "" for `remittances-unmatched`, where
the processor matches it to its claim's account. A transaction (one check / EFT) is taken whole or
not at all: any bad segment, or a check total (BPR02) that does not equal the claims' payments
less the provider-level adjustments, rejects the whole transaction with the segment and the reason.

Provider-level adjustments (PLB) belong to the check, not to an account: they ride on the first
remittance of the transaction (`provider_adjustments`) and are never posted to an account's ledger.
"""
from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal

from infra.money import money
from producers.x12.tokens import (
    Segment,
    SegmentReader,
    Transaction,
    amount_cents,
    at_midnight,
    ccyymmdd,
    line_number,
    quantity,
)

GROUP_CODES = frozenset({"CO", "PR", "OA", "PI", "CR"})
REVERSAL = "22"
_MIA_REMARKS = (5, 20, 21, 22, 23)
_MOA_REMARKS = (3, 4, 5, 6, 7)


def _cas(tx: Transaction, seg: Segment) -> list[dict]:
    """A CAS segment: group code then up to six (reason, amount, quantity) triplets."""
    group = seg.el(1).strip()
    if group not in GROUP_CODES:
        raise tx.error(seg, f"CAS01 {group!r} is not a claim adjustment group code "
                            f"({', '.join(sorted(GROUP_CODES))})")
    out = []
    for i in range(2, 20, 3):
        reason = seg.el(i).strip()
        if not reason:
            if seg.el(i + 1).strip():
                raise tx.error(seg, f"CAS{i + 1:02d} has an amount but CAS{i:02d} no reason code")
            continue
        out.append({"group_code": group, "reason_code": reason,
                    "amount_cents": amount_cents(tx, seg, i + 1)})
    if not out:
        raise tx.error(seg, "CAS has no adjustment (CAS02/CAS03 missing)")
    return out


def _decimal_text(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _procedure(seg: Segment, i: int) -> tuple[str, str, list[str]]:
    """A composite procedure (SVC01, SVC06): qualifier, code, modifiers 3-6."""
    parts = [p.strip() for p in seg.components(i)] + [""] * 6
    return parts[0], parts[1], [m for m in parts[2:6] if m]


def _units(tx: Transaction, seg: Segment) -> dict:
    """SVC05 units paid (omitted means one), SVC07 units billed (sent when they differ)."""
    paid = quantity(tx, seg, 5)
    paid = Decimal(1) if paid is None else paid
    billed = quantity(tx, seg, 7)
    billed = paid if billed is None else billed
    # `units` stays a whole positive count for the ledger; the exact figures are in the text fields.
    return {"units": max(1, math.ceil(abs(billed))), "units_paid": _decimal_text(paid),
            "units_billed": _decimal_text(billed)}


_MIA_QUANTITIES = (1, 3, 15)
_MIA_AMOUNTS = (2, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 18, 19, 24)
_MOA_RATES = (1,)
_MOA_AMOUNTS = (2, 8, 9)
_CLAIM_DATES = {"232": "statement_start", "233": "statement_end", "050": "received_on"}
_LINE_DATES = {"472": ("service_start", "service_end"), "150": ("service_start",),
               "151": ("service_end",)}


class _Check(SegmentReader):
    """The state of one 835 transaction while its segments are read in order."""

    def __init__(self, tx: Transaction, emitted_at: datetime):
        self.tx, self.emitted_at = tx, emitted_at
        self.bpr: Segment | None = None
        self.trace = self.originator = ""
        self.paid_on = None
        self.payer_name = self.payer_id = ""
        self.in_payer = False
        self.claims: list[dict] = []
        self.claim: dict | None = None
        self.line: dict | None = None
        self.plb: list[dict] = []

    def _bpr(self, seg: Segment) -> None:
        self.bpr = seg
        amount_cents(self.tx, seg, 2)
        if seg.el(16).strip():
            self.paid_on = ccyymmdd(self.tx, seg, seg.el(16).strip())

    def _trn(self, seg: Segment) -> None:
        if not self.trace:
            self.trace, self.originator = seg.el(2).strip(), seg.el(3).strip()
            if not self.trace:
                raise self.tx.error(seg, "TRN02 (check or EFT trace number) is missing")

    def _dtm(self, seg: Segment) -> None:
        qualifier, text = seg.el(1).strip(), seg.el(2).strip()
        if self.claim is None:
            if qualifier == "405" and self.paid_on is None:
                self.paid_on = ccyymmdd(self.tx, seg, text)
        elif self.line is not None:
            for key in _LINE_DATES.get(qualifier, ()):
                self.line[key] = ccyymmdd(self.tx, seg, text)
        elif qualifier in _CLAIM_DATES:
            self.claim[_CLAIM_DATES[qualifier]] = ccyymmdd(self.tx, seg, text)

    def _amt(self, seg: Segment) -> None:
        if self.claim is None:
            return
        qualifier = seg.el(1).strip()
        if not qualifier:
            raise self.tx.error(seg, "AMT01 (amount qualifier) is missing")
        amount = {"qualifier": qualifier, "amount_cents": amount_cents(self.tx, seg, 2)}
        target = self.line if self.line is not None else self.claim
        target["amounts"].append(amount)
        if self.line is not None and qualifier == "B6":
            self.line["allowed_cents"] = amount["amount_cents"]

    def _n1(self, seg: Segment) -> None:
        self.in_payer = seg.el(1) == "PR"
        if self.in_payer:
            self.payer_name = seg.el(2).strip()
            self.payer_id = seg.el(4).strip()

    def _ref(self, seg: Segment) -> None:
        if self.in_payer and self.claim is None and seg.el(1) == "2U":
            self.payer_id = self.payer_id or seg.el(2).strip()
        elif self.line is not None and seg.el(1) == "6R":
            ref = seg.el(2).strip()
            self.line["line_control_number"] = ref or None
            self.line["line"] = line_number(ref, len(self.claim["lines"]))  # else the SVC's place

    def _clp(self, seg: Segment) -> None:
        self.in_payer = False
        self.line = None
        claim_id, status = seg.el(1).strip(), seg.el(2).strip()
        if not claim_id:
            raise self.tx.error(seg, "CLP01 (patient control number: our claim id) is missing")
        if not status:
            raise self.tx.error(seg, "CLP02 (claim status) is missing")
        self.claim = {
            "claim_id": claim_id, "claim_status": status,
            "total_charge_cents": amount_cents(self.tx, seg, 3),
            "total_paid_cents": amount_cents(self.tx, seg, 4),
            "patient_responsibility_cents": amount_cents(self.tx, seg, 5, required=False) or 0,
            "payer_claim_control_number": seg.el(7).strip(),
            "claim_filing_indicator": seg.el(6).strip() or None,
            "facility_type_code": seg.el(8).strip() or None,
            "claim_frequency_code": seg.el(9).strip() or None,
            "drg_code": seg.el(11).strip() or None,
            "statement_start": None, "statement_end": None, "received_on": None,
            "claim_adjustments": [], "lines": [], "remarks": [], "amounts": [], "adjudication": [],
            "segment": seg,
        }
        self.claims.append(self.claim)

    def _cas(self, seg: Segment) -> None:
        if self.claim is None:
            raise self.tx.error(seg, "CAS before any CLP")
        target = self.line["adjustments"] if self.line is not None else self.claim["claim_adjustments"]
        target.extend(_cas(self.tx, seg))

    def _moa(self, seg: Segment) -> None:
        self._adjudication(seg, _MOA_REMARKS, _MOA_AMOUNTS, _MOA_RATES)

    def _mia(self, seg: Segment) -> None:
        self._adjudication(seg, _MIA_REMARKS, _MIA_AMOUNTS, _MIA_QUANTITIES)

    def _adjudication(self, seg: Segment, remarks: tuple[int, ...], amounts: tuple[int, ...],
                      values: tuple[int, ...]) -> None:
        if self.claim is None:
            raise self.tx.error(seg, f"{seg.id} before any CLP")
        self.claim["remarks"].extend(seg.el(i).strip() for i in remarks if seg.el(i).strip())
        for i in sorted((*amounts, *values)):
            if not seg.el(i).strip():
                continue
            element = f"{seg.id}{i:02d}"
            if i in amounts:
                self.claim["adjudication"].append(
                    {"element": element, "amount_cents": amount_cents(self.tx, seg, i),
                     "value": None})
            else:
                self.claim["adjudication"].append(
                    {"element": element, "amount_cents": None,
                     "value": _decimal_text(quantity(self.tx, seg, i))})

    def _svc(self, seg: Segment) -> None:
        if self.claim is None:
            raise self.tx.error(seg, "SVC before any CLP")
        qualifier, code, modifiers = _procedure(seg, 1)
        if not code:
            raise self.tx.error(seg, f"SVC01 {seg.el(1)!r} has no procedure code (qualifier:code)")
        _, original, original_modifiers = _procedure(seg, 6)
        self.line = {"line": len(self.claim["lines"]) + 1, "procedure_code": code,
                     **_units(self.tx, seg),
                     "charge_cents": amount_cents(self.tx, seg, 2),
                     "paid_cents": amount_cents(self.tx, seg, 3),
                     "adjustments": [], "remarks": [], "line_control_number": None,
                     "procedure_qualifier": qualifier or None, "modifiers": modifiers,
                     "revenue_code": seg.el(4).strip() or None,
                     "original_procedure_code": original or None,
                     "original_modifiers": original_modifiers,
                     "service_start": None, "service_end": None, "allowed_cents": None,
                     "amounts": []}
        self.claim["lines"].append(self.line)

    def _lq(self, seg: Segment) -> None:
        if self.line is None:
            raise self.tx.error(seg, "LQ outside a service line (no SVC before it)")
        if seg.el(1) == "HE" and seg.el(2).strip():
            self.line["remarks"].append(seg.el(2).strip())

    def _plb(self, seg: Segment) -> None:
        self.claim = self.line = None
        fiscal = seg.el(2).strip()
        for i in range(3, 15, 2):
            if not seg.el(i).strip():
                continue
            reason = seg.components(i)
            self.plb.append({
                "provider_id": seg.el(1).strip(),
                "fiscal_period_end": ccyymmdd(self.tx, seg, fiscal) if fiscal else None,
                "reason_code": reason[0].strip(),
                "reference": (reason[1].strip() or None) if len(reason) > 1 else None,
                "amount_cents": amount_cents(self.tx, seg, i + 1),
            })

    def finish(self) -> list[dict]:
        tx = self.tx
        se = tx.segments[-1]
        if self.bpr is None:
            raise tx.error(tx.segments[0], "the 835 has no BPR (financial information)")
        if not self.trace:
            raise tx.error(self.bpr, "the 835 has no TRN (check or EFT trace number)")
        check = amount_cents(tx, self.bpr, 2)
        paid = sum(c["total_paid_cents"] for c in self.claims)
        provider = sum(p["amount_cents"] for p in self.plb)
        if check != paid - provider:
            raise tx.error(self.bpr, f"BPR02 check total {money(check)} != claims paid "
                                     f"{money(paid)} - provider adjustments {money(provider)}")
        if not self.claims and self.plb:
            raise tx.error(se, "provider-level adjustments (PLB) without any claim payment: "
                               "there is no remittance to carry them")
        payer_id = self.payer_id or self.payer_name or self.originator
        if not payer_id:
            raise tx.error(self.bpr, "no payer identification (N1*PR, REF*2U or TRN03)")
        occurred = at_midnight(self.paid_on) if self.paid_on else _file_time(tx)
        check_id = f"{self.originator or payer_id}:{self.trace}"
        out = []
        for n, c in enumerate(self.claims, 1):
            c.pop("segment")
            out.append({
                "event_id": f"x835:{check_id}:{n}", "remittance_id": check_id,
                "account_id": "", "occurred_at": occurred, "emitted_at": self.emitted_at,
                "payer_id": payer_id, "trace_number": self.trace, **c,
                "payer_name": self.payer_name or None, "check_amount_cents": check,
                "provider_adjustments": self.plb if n == 1 else [],
            })
        return out


def _file_time(tx: Transaction) -> datetime:
    gs = tx.gs
    if gs is not None and gs.el(4).strip():
        return at_midnight(ccyymmdd(tx, gs, gs.el(4).strip()))
    raise tx.error(tx.segments[0], "no payment date (BPR16, DTM*405 or GS04)")


def remittances(tx: Transaction, emitted_at: datetime) -> list[dict]:
    """The RemittanceReceived dicts of one 835 transaction; raises X12Error on the first problem."""
    return _Check(tx, emitted_at).read()
