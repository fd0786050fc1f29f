"""X12 277 -> ClaimStatusReported, one per claim: the 277CA acknowledgement (005010X214, claims
at HL PT) and the 277 claim status response (005010X212, claims at HL 22 subscriber / 23 dependent).

The claim is the patient control number we sent in CLM01: REF*EJ when the 277 carries it, else
TRN02 of the claim loop (the 277CA echoes CLM01 there; a 277 response echoes the 276's trace,
which the hospital's inquiry sets). Every claim-level STC composite (STC01, STC10, STC11) is kept
in order; STC04 is the claim's total charge, STC05 the paid amount, STC06 the adjudication date,
STC08/STC09 the remittance date and trace, REF*1K the payer's claim number, DTP*472 the service
dates. Service-line (2220D/E) statuses are not reported separately: the claim-level status decides.

Accepted or rejected, from the claim status categories (this project's mapping):
  accepted  A0 forwarded by the clearinghouse, A1 received, A2 accepted into adjudication,
            A5 accepted as split claims; P* pending, F* finalized, R* more information
            requested: the payer holds the claim
  rejected  A3 returned as unprocessable, A4 not found, A6 missing information,
            A7 invalid information, A8 relational field in error, D0 data search unsuccessful
A claim is accepted when one of its categories is an accepting one and none rejects it. A claim
whose categories are only E0-E4 (the inquiry could not be answered) says nothing about the
claim: it is not published, and counted in the transaction's notes.
"""
from __future__ import annotations

from datetime import date, datetime

from producers.x12.tokens import (
    EARLIEST,
    Segment,
    SegmentReader,
    Transaction,
    amount_cents,
    at_midnight,
    ccyymmdd,
)

ACCEPTED = frozenset({"A0", "A1", "A2", "A5"})
HELD = ("P", "F", "R")  # pending, finalized, request for information: the payer has the claim
REJECTED = frozenset({"A3", "A4", "A6", "A7", "A8", "D0"})
NO_STATUS = "277 claims without a claim status (only E0-E4: the inquiry was not answered)"
CLAIM_LEVELS = {"005010X214": ("PT",), "005010X212": ("22", "23")}


def is_accepted(categories: list[str]) -> bool:
    cats = {c.upper() for c in categories}
    held = any(c.startswith(HELD) for c in cats)
    return bool(cats & ACCEPTED or held) and not cats & REJECTED


def _says_nothing(categories: list[str]) -> bool:
    return all(c.upper().startswith("E") for c in categories)


def _is_placeholder(seg: Segment) -> bool:
    """A service date such as 10010101: well formed, but before any date anything was billed for."""
    texts = seg.el(3).strip().split("-")
    return all(len(t) == 8 and t.isdigit() and int(t[:4]) < EARLIEST.year for t in texts)


def _dates(tx: Transaction, seg: Segment) -> tuple[date, date]:
    fmt, text = seg.el(2).strip(), seg.el(3).strip()
    if fmt == "RD8" and "-" in text:
        start, end = text.split("-", 1)
        return ccyymmdd(tx, seg, start), ccyymmdd(tx, seg, end)
    if fmt in ("D8", ""):
        d = ccyymmdd(tx, seg, text)
        return d, d
    raise tx.error(seg, f"DTP02 {fmt!r} is not a date format this adapter reads (D8, RD8)")


class _Acks(SegmentReader):
    def __init__(self, tx: Transaction, emitted_at: datetime):
        self.tx, self.emitted_at = tx, emitted_at
        self.guide = next((g for g in CLAIM_LEVELS if tx.version.startswith(g)), "005010X214")
        self.level = ""
        self.payer_id = ""
        self.file_date: date | None = None
        self.claims: list[dict] = []
        self.claim: dict | None = None
        self.in_line = False

    def _bht(self, seg: Segment) -> None:
        if seg.el(4).strip():
            self.file_date = ccyymmdd(self.tx, seg, seg.el(4).strip())

    def _hl(self, seg: Segment) -> None:
        self.level, self.claim, self.in_line = seg.el(3).strip(), None, False

    def _nm1(self, seg: Segment) -> None:
        if self.level == "20" and not self.payer_id:
            self.payer_id = seg.el(9).strip() or seg.el(3).strip()

    def _trn(self, seg: Segment) -> None:
        if self.level not in CLAIM_LEVELS[self.guide]:
            return
        claim_id = seg.el(2).strip()
        if not claim_id:
            raise self.tx.error(seg, "TRN02 (patient control number or claim trace) is missing")
        self.in_line = False
        self.claim = {"claim_id": claim_id, "statuses": [], "total_charge_cents": None,
                      "payer_claim_control_number": None, "service_start": None,
                      "service_end": None, "status_date": None, "segment": seg,
                      "transaction": "277CA" if self.guide == "005010X214" else "277",
                      "paid_cents": None, "adjudicated_on": None, "remitted_on": None,
                      "remittance_trace": None}
        self.claims.append(self.claim)

    def _stc(self, seg: Segment) -> None:
        if self.claim is None or self.in_line:
            return  # information source / receiver / provider / line statuses
        for i in (1, 10, 11):
            if not seg.el(i).strip():
                continue
            parts = seg.components(i) + ["", "", ""]
            if not parts[0].strip() or not parts[1].strip():
                raise self.tx.error(seg, f"STC{i:02d} {seg.el(i)!r} needs a status category and "
                                         "a status code")
            self.claim["statuses"].append({"category": parts[0].strip(), "code": parts[1].strip(),
                                           "entity": parts[2].strip() or None})
        if seg.el(2).strip() and self.claim["status_date"] is None:
            self.claim["status_date"] = ccyymmdd(self.tx, seg, seg.el(2).strip())
        charge = amount_cents(self.tx, seg, 4, required=False)
        if charge is not None and self.claim["total_charge_cents"] is None:
            self.claim["total_charge_cents"] = charge
        paid = amount_cents(self.tx, seg, 5, required=False)
        if paid is not None and self.claim["paid_cents"] is None:
            self.claim["paid_cents"] = paid
        for i, key in ((6, "adjudicated_on"), (8, "remitted_on")):
            if seg.el(i).strip() and self.claim[key] is None:
                self.claim[key] = ccyymmdd(self.tx, seg, seg.el(i).strip())
        if seg.el(9).strip() and self.claim["remittance_trace"] is None:
            self.claim["remittance_trace"] = seg.el(9).strip()

    def _ref(self, seg: Segment) -> None:
        if self.claim is None or self.in_line:
            return
        if seg.el(1) == "1K":
            self.claim["payer_claim_control_number"] = seg.el(2).strip() or None
        elif seg.el(1) == "EJ" and seg.el(2).strip():
            self.claim["claim_id"] = seg.el(2).strip()

    def _dtp(self, seg: Segment) -> None:
        if self.claim is not None and not self.in_line and seg.el(1) == "472":
            if _is_placeholder(seg):  # payers send 10010101 when they have no date: the status stands
                self.tx.notes.append("placeholder service dates (before 1900) read as not given")
                return
            self.claim["service_start"], self.claim["service_end"] = _dates(self.tx, seg)

    def _svc(self, seg: Segment) -> None:
        self.in_line = True

    def finish(self) -> list[dict]:
        tx = self.tx
        sender, interchange = tx.isa.el(6).strip(), tx.isa.el(13).strip()
        out = []
        for n, c in enumerate(self.claims, 1):
            seg = c.pop("segment")
            if not c["statuses"]:
                raise tx.error(seg, f"claim {n} (TRN02) has no STC claim status")
            if _says_nothing([s["category"] for s in c["statuses"]]):
                tx.notes.append(NO_STATUS)
                continue
            when = c.pop("status_date") or self.file_date
            if when is None:
                raise tx.error(seg, "no status date (STC02) and no file date (BHT04)")
            out.append(status_record(
                event_id=f"x277:{sender}:{interchange}:{tx.control}:{n}:{c['claim_id']}",
                occurred_at=at_midnight(when), emitted_at=self.emitted_at,
                payer_id=self.payer_id,
                accepted=is_accepted([s["category"] for s in c["statuses"]]), **c))
        return out


_OPTIONAL = {"total_charge_cents": None, "payer_claim_control_number": None,
             "service_start": None, "service_end": None, "transaction": "277CA",
             "paid_cents": None, "adjudicated_on": None, "remitted_on": None,
             "remittance_trace": None, "submitter_id": None, "group_control_number": None,
             "set_control_number": None}


def status_record(*, event_id: str, claim_id: str, occurred_at: datetime, emitted_at: datetime,
                  payer_id: str, accepted: bool, statuses: list[dict], **optional) -> dict:
    """The one builder of ClaimStatusReported, for the 277CA, the 277 and the 999."""
    unknown = set(optional) - set(_OPTIONAL)
    if unknown:
        raise TypeError(f"not ClaimStatusReported fields: {sorted(unknown)}")
    return {"event_id": event_id, "claim_id": claim_id, "occurred_at": occurred_at,
            "emitted_at": emitted_at, "payer_id": payer_id, "accepted": accepted,
            "statuses": statuses, **_OPTIONAL, **optional}


def claim_statuses(tx: Transaction, emitted_at: datetime) -> list[dict]:
    """The ClaimStatusReported dicts of one 277 or 277CA transaction; raises X12Error on a problem."""
    return _Acks(tx, emitted_at).read()
