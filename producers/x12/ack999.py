"""X12 999 (005010X231A1) -> ClaimStatusReported: one per 837 set, and one per claim it names.

A 999 answers a functional group of 837s: per transaction set (AK2: set id and its ST02) an IK5
says A accepted, E accepted with errors, or M/R/W/X rejected; AK9 sums up the group. Each set's
result becomes one ClaimStatusReported with an empty claim id (transaction 999), naming the set by
the 837's sender (999 GS03, else ISA08), receiver (GS02, else ISA06), group control number (AK102)
and set control number (AK202): the set is accepted or rejected as a whole, and the sink joins it
to the claims the pipeline sent in that set (x12_files, x12_claims_sent). Where an error sits
inside a claim, the IK3 loop's CTX*CLM01 business unit context carries its patient control number
(CLM01, our claim id); each such claim also gets its own ClaimStatusReported, with one status per
error, category the IK501 code and code `IK304:<segment error>` or `IK403:<element error>`, and the
event id `<set event id>:<claim id>`, the id the set's result takes for that claim.

Counts that contradict the sets (AK902, AK904), an AK2 without an IK5, or an unknown IK501/AK901
code refuse the 999.
"""
from __future__ import annotations

from datetime import datetime

from producers.x12.ack277 import status_record
from producers.x12.tokens import Segment, SegmentReader, Transaction, at_midnight, ccyymmdd

SET_ACCEPTED = frozenset({"A", "E"})
SET_CODES = frozenset({"A", "E", "M", "R", "W", "X"})
GROUP_CODES = SET_CODES | {"P"}


class _Sets(SegmentReader):
    def __init__(self, tx: Transaction, emitted_at: datetime):
        self.tx, self.emitted_at = tx, emitted_at
        self.group = ""
        self.sets: list[dict] = []
        self.current: dict | None = None
        self.claim: str | None = None  # the claim of the current IK3 loop, from CTX*CLM01
        self.ak9: Segment | None = None

    def _ak1(self, seg: Segment) -> None:
        self.group = seg.el(2).strip()

    def _ak2(self, seg: Segment) -> None:
        self.current = {"set_id": seg.el(1).strip(), "control": seg.el(2).strip(), "code": None,
                        "claims": {}, "errors": [], "segment": seg}
        self.sets.append(self.current)

    def _ik3(self, seg: Segment) -> None:
        self._need_set(seg)
        self.claim = None
        self.current["errors"].append(f"IK304:{seg.el(4).strip()}")

    def _ctx(self, seg: Segment) -> None:
        name = seg.components(1)
        if self.current is None or name[0].strip() != "CLM01" or len(name) < 2:
            return
        self.claim = name[1].strip() or None
        if self.claim:
            self.current["claims"].setdefault(self.claim, []).extend(self.current["errors"][-1:])

    def _ik4(self, seg: Segment) -> None:
        self._need_set(seg)
        error = f"IK403:{seg.el(3).strip()}"
        if self.claim:
            self.current["claims"][self.claim].append(error)
        self.current["errors"].append(error)

    def _ik5(self, seg: Segment) -> None:
        self._need_set(seg)
        code = seg.el(1).strip()
        if code not in SET_CODES:
            raise self.tx.error(seg, f"IK501 {code!r} is not a transaction set acknowledgment "
                                     f"code ({', '.join(sorted(SET_CODES))})")
        self.current["code"] = code
        self.current, self.claim = None, None

    def _ak9(self, seg: Segment) -> None:
        self.ak9 = seg

    def _need_set(self, seg: Segment) -> None:
        if self.current is None:
            raise self.tx.error(seg, f"{seg.id} outside a set response (no AK2 before it)")

    def _check_ak9(self) -> None:
        seg, tx = self.ak9, self.tx
        if seg is None:
            raise tx.error(tx.segments[-1], "the 999 has no AK9 (functional group response)")
        if seg.el(1).strip() not in GROUP_CODES:
            raise tx.error(seg, f"AK901 {seg.el(1)!r} is not a functional group acknowledge "
                                f"code ({', '.join(sorted(GROUP_CODES))})")
        accepted = sum(s["code"] in SET_ACCEPTED for s in self.sets)
        for i, actual, what in ((2, len(self.sets), "sets answered (AK2)"),
                                (4, accepted, "sets accepted (IK5 A or E)")):
            if self.sets and seg.el(i).strip() != str(actual):
                raise tx.error(seg, f"AK9{i:02d} says {seg.el(i)!r}; the 999 has {actual} {what}")

    def finish(self) -> list[dict]:
        tx = self.tx
        for s in self.sets:
            if s["code"] is None:
                raise tx.error(s["segment"], f"AK2 set {s['control']!r} has no IK5 (its outcome)")
        self._check_ak9()
        if tx.gs is None or not tx.gs.el(4).strip():
            raise tx.error(tx.segments[0], "no file date (GS04) to date the acknowledgement")
        on = at_midnight(ccyymmdd(tx, tx.gs, tx.gs.el(4).strip()))
        sender = tx.isa.el(6).strip()
        payer = tx.gs.el(2).strip() or sender
        submitter = tx.gs.el(3).strip() or tx.isa.el(8).strip()
        out = []
        for s in self.sets:
            accepted = s["code"] in SET_ACCEPTED
            if not s["claims"]:
                tx.notes.append(f"999 sets {'accepted' if accepted else 'rejected'} naming no claim")
            set_id = (f"x999:{sender}:{tx.isa.el(13).strip()}:{tx.control}:{self.group}:"
                      f"{s['control']}")
            common = {"occurred_at": on, "emitted_at": self.emitted_at, "payer_id": payer,
                      "accepted": accepted, "transaction": "999", "submitter_id": submitter,
                      "group_control_number": self.group, "set_control_number": s["control"]}
            out.append(status_record(event_id=set_id, claim_id="", **common, statuses=[
                {"category": s["code"], "code": e, "entity": None} for e in s["errors"] or ["IK5"]]))
            for claim_id, errors in s["claims"].items():
                out.append(status_record(
                    event_id=f"{set_id}:{claim_id}", claim_id=claim_id, **common,
                    statuses=[{"category": s["code"], "code": e, "entity": None}
                              for e in errors or ["IK5"]]))
        return out


def claim_statuses(tx: Transaction, emitted_at: datetime) -> list[dict]:
    """The ClaimStatusReported dicts of one 999 transaction; raises X12Error on a problem."""
    return _Sets(tx, emitted_at).read()
