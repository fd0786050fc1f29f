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

from datetime import datetime

from producers.x12.tokens import Segment, Transaction, amount_cents, at_midnight, ccyymmdd

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


def _line_number(ref: str) -> int | None:
    """REF*6R (line item control number) as the 837 line number: its trailing digits."""
    digits = ""
    for ch in reversed(ref.strip()):
        if not ch.isdigit():
            break
        digits = ch + digits
    return int(digits) if digits and int(digits) > 0 else None


def _units(tx: Transaction, seg: Segment) -> int:
    text = seg.el(5).strip()
    if not text:
        return 1  # SVC05 may be omitted when one unit was paid
    cents = amount_cents(tx, seg, 5)
    if cents % 100:
        raise tx.error(seg, f"SVC05 {text!r}: fractional units are not supported")
    return abs(cents // 100)  # a reversal may sign the units too; the amounts carry the sign


class _Check:
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

    def read(self) -> list[dict]:
        for seg in self.tx.segments[1:-1]:
            handler = getattr(self, f"_{seg.id.lower()}", None)
            if handler is not None:
                handler(seg)
        return self.finish()

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
        if seg.el(1) == "405" and self.paid_on is None and self.claim is None:
            self.paid_on = ccyymmdd(self.tx, seg, seg.el(2).strip())

    def _n1(self, seg: Segment) -> None:
        self.in_payer = seg.el(1) == "PR"
        if self.in_payer:
            self.payer_name = seg.el(2).strip()
            self.payer_id = seg.el(4).strip()

    def _ref(self, seg: Segment) -> None:
        if self.in_payer and self.claim is None and seg.el(1) == "2U":
            self.payer_id = self.payer_id or seg.el(2).strip()
        elif self.line is not None and seg.el(1) == "6R":
            number = _line_number(seg.el(2))
            if number is not None:
                self.line["line"] = number

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
            "claim_adjustments": [], "lines": [], "remarks": [], "segment": seg,
        }
        self.claims.append(self.claim)

    def _cas(self, seg: Segment) -> None:
        if self.claim is None:
            raise self.tx.error(seg, "CAS before any CLP")
        target = self.line["adjustments"] if self.line is not None else self.claim["claim_adjustments"]
        target.extend(_cas(self.tx, seg))

    def _moa(self, seg: Segment) -> None:
        self._remarks(seg, _MOA_REMARKS)

    def _mia(self, seg: Segment) -> None:
        self._remarks(seg, _MIA_REMARKS)

    def _remarks(self, seg: Segment, positions: tuple[int, ...]) -> None:
        if self.claim is None:
            raise self.tx.error(seg, f"{seg.id} before any CLP")
        self.claim["remarks"].extend(seg.el(i).strip() for i in positions if seg.el(i).strip())

    def _svc(self, seg: Segment) -> None:
        if self.claim is None:
            raise self.tx.error(seg, "SVC before any CLP")
        procedure = seg.components(1)
        if len(procedure) < 2 or not procedure[1].strip():
            raise self.tx.error(seg, f"SVC01 {seg.el(1)!r} has no procedure code (qualifier:code)")
        self.line = {"line": len(self.claim["lines"]) + 1, "procedure_code": procedure[1].strip(),
                     "units": _units(self.tx, seg),
                     "charge_cents": amount_cents(self.tx, seg, 2),
                     "paid_cents": amount_cents(self.tx, seg, 3),
                     "adjustments": [], "remarks": []}
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
            raise tx.error(self.bpr, f"BPR02 check total {check / 100:.2f} != claims paid "
                                     f"{paid / 100:.2f} - provider adjustments "
                                     f"{provider / 100:.2f}")
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
