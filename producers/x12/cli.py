"""`rcm produce x12 FILE... [--dry-run]`: X12 835 remittances, 277CA and 277 claim statuses, 999s in.

Each file is split into transaction sets; ST01 and the guide (ST03, else GS08) pick the reader in
READERS: 835 -> RemittanceReceived on `remittances-unmatched` (key: claim id; the processor finds
the account); 277CA, 277 and 999 -> ClaimStatusReported on `claim-status`; 837P/837I ->
ClaimBuilt (status SUBMITTED) on `claims-submitted` (a refused claim is dead-lettered alone, its
neighbours go through). 4010 sets are out of scope and refused with that reason. A transaction with a problem is not published: its error names the file, the
segment number and id and the reason, and a DeadLetter (stage x12_adapter, the raw transaction as
payload) goes to `dead-letters`; the file's other transactions still go through. Envelope errors
(GS/GE, ISA/IEA) dead-letter the whole file's text but do not hold back complete transactions.
The exit status is 1 when anything was bad. Logs and errors carry no patient data beyond ids.
"""
from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from producers.output import print_records
from producers.x12 import ack277, ack999, claims837, remit835
from producers.x12.tokens import Parsed, Transaction, X12Error, read
from schemas import deadletter
from schemas import topics as T
from schemas.envelope import Outgoing, record

STAGE = "x12_adapter"
# (ST01, guide prefix) -> (topic, reader(transaction, now) -> records, or (records, refused claims))
READERS = {
    ("835", "005010X221"): (T.REMITTANCES_UNMATCHED, remit835.remittances),
    ("277", "005010X214"): (T.CLAIM_STATUS, ack277.claim_statuses),
    ("277", "005010X212"): (T.CLAIM_STATUS, ack277.claim_statuses),
    ("999", "005010X231"): (T.CLAIM_STATUS, ack999.claim_statuses),
    ("837", "005010X222"): (T.CLAIMS_SUBMITTED, claims837.claims),
    ("837", "005010X223"): (T.CLAIMS_SUBMITTED, claims837.claims),
}


@dataclass
class Result:
    records: list[Outgoing] = field(default_factory=list)
    errors: list[X12Error] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n


def _dead_letter(source: T.Topic, err: X12Error, payload: bytes, now: datetime) -> Outgoing:
    digest = hashlib.sha256(payload).hexdigest()[:16]
    # Stable for the same bytes: re-sending a bad file adds no second row in dead_letters.
    return record(T.DEAD_LETTERS, deadletter.dead_letter(
        f"{source.name}:x12:{digest}:{err.number}:{STAGE}", source.name, STAGE, "INVALID", str(err),
        payload=payload, offset=err.number, at=now))


def _topic_for(tx: Transaction) -> T.Topic | None:
    return next((topic for (set_id, _), (topic, _) in READERS.items() if set_id == tx.set_id), None)


def _reader(tx: Transaction):
    """The reader of a transaction, or the X12Error that says why there is none."""
    guides = [g for (set_id, g) in READERS if set_id == tx.set_id]
    st = tx.segments[0]
    if not guides:
        sets = ", ".join(sorted({s for s, _ in READERS}))
        return tx.error(st, f"transaction set {tx.set_id!r} is not one this adapter reads ({sets})")
    if tx.version.startswith("00401"):
        return tx.error(st, f"version {tx.version!r} is 4010: out of scope, only 5010 "
                            f"({', '.join(guides)}) is read")
    guide = next((g for g in guides if tx.version.startswith(g)), None)
    if guide is None:
        return tx.error(st, f"version {tx.version!r} is not a guide this adapter reads for "
                            f"{tx.set_id} ({', '.join(guides)})")
    return READERS[(tx.set_id, guide)][1]


def convert(data: bytes | str, file: str, now: datetime | None = None) -> Result:
    """Parse one file into the records to publish (good events and dead letters)."""
    now = now or datetime.now(UTC)
    parsed: Parsed = read(data, file)
    out = Result()
    for tx in parsed.transactions:
        topic = _topic_for(tx)
        err = tx.errors[0] if tx.errors else None
        if err is None:
            reader = _reader(tx)
            err = reader if isinstance(reader, X12Error) else None
        if err is None:
            try:
                result = reader(tx, now)
                recs, refused = result if isinstance(result, tuple) else (result, [])
                for bad in refused:  # one claim refused, its neighbours go through
                    out.errors.append(bad)
                    out.records.append(_dead_letter(topic, bad, tx.payload(), now))
                    out.count("bad claims")
            except X12Error as exc:
                err = exc
        if err is not None:
            out.errors.append(err)
            out.records.append(_dead_letter(topic or T.REMITTANCES_UNMATCHED, err, tx.payload(), now))
            out.count("bad transactions")
            continue
        out.count(f"{tx.set_id} transactions")
        for note in tx.notes:
            out.count(note)
        out.count(topic.name, len(recs))
        out.records.extend(record(topic, r) for r in recs)
    for err in parsed.errors:
        out.errors.append(err)
        topic = (_topic_for(parsed.transactions[0]) if parsed.transactions else None)
        out.records.append(_dead_letter(topic or T.REMITTANCES_UNMATCHED, err, parsed.payload, now))
        out.count("envelope errors")
    return out


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="X12 835, 277CA, 277, 999, 837P or 837I files")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the events as JSON lines instead of publishing")


def produce(args, settings) -> int:
    records: list[Outgoing] = []
    bad = 0
    for name in args.files:
        path = Path(name)
        try:
            data = path.read_bytes()
        except OSError as exc:
            print(f"{name}: cannot read: {exc.strerror}", file=sys.stderr)
            bad += 1
            continue
        result = convert(data, path.name)
        for err in result.errors:
            print(f"error: {err}", file=sys.stderr)
        bad += len(result.errors)
        summary = ", ".join(f"{n} {what}" for what, n in sorted(result.counts.items()))
        print(f"{path.name}: {summary or 'nothing'}", file=sys.stderr)
        records += result.records
    if args.dry_run:
        print_records(records)
    elif records:
        from producers.publish import publish

        stats = publish(records, settings, service="x12")
        print(f"published {stats['sent']:,} records: {stats['by_topic']}", file=sys.stderr)
    return 1 if bad else 0
