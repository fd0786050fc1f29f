"""`rcm produce hl7 FILE... [--dry-run]`: HL7 v2 ADT, BAR and DFT files -> `visit-events`.

Each message becomes its VisitEvent(s); ADT^A28/A31 person updates are accepted and counted, with
no event. A message the adapter refuses becomes a dead letter and a line on stderr naming file,
message, line, segment and reason. The good messages in a file still go through; the exit code is 1
when any message was refused. `--dry-run` prints every record it would publish (events, then dead
letters) as JSON lines, as `rcm produce x12` and `rcm produce fhir` do.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from producers.hl7.files import split_messages
from producers.hl7.parse import MessageError, header, is_ignored, parse_message, visit_events
from producers.hl7.records import dead_letter, line_of
from producers.output import print_records
from schemas import topics as T
from schemas.envelope import record


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="HL7 v2 files (one or more messages "
                        "each; \\r, \\n or \\r\\n segments; MLLP framing, batch envelopes and a "
                        "UTF-8 BOM allowed)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the records (events and dead letters) as JSON lines; no Kafka")


@dataclass
class Result:
    events: list[dict] = field(default_factory=list)
    dead: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    ignored: int = 0  # ADT events with nothing to bill (A28/A31 person updates, A40 merges...)


def read(paths: list[str], now: datetime, charge_master=None) -> Result:
    """Events, dead letters, error lines and the ignored count for the files, in file order.
    charge_master: what FT1 lines are looked up in (default: the packaged one)."""
    out = Result()
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            out.errors.append(f"{path}: cannot read ({exc.strerror})")
            continue
        messages = split_messages(data)
        if not messages:
            out.errors.append(f"{path}: no HL7 messages")
        for raw in messages:
            try:
                events = visit_events(raw.text, now, charge_master)
            except MessageError as err:
                where = f"{path}:message {raw.number} (line {line_of(raw, err.segment)})"
                out.dead.append(dead_letter(raw.payload, err, where))
                out.errors.append(f"{where}: {err.segment}: {err.reason}")
                continue
            out.events.extend(events)
            if not events and is_ignored(header(parse_message(raw.text))):
                out.ignored += 1
    return out


def produce(args, settings) -> int:
    from processors.chargemaster import load_charge_master

    result = read(args.files, datetime.now(UTC), load_charge_master(settings.charge_master or None))
    for line in result.errors:
        print(line, file=sys.stderr)
    records = [record(T.VISIT_EVENTS, r) for r in result.events]
    records += [record(T.DEAD_LETTERS, d) for d in result.dead]
    if args.dry_run:
        print_records(records)
    elif records:
        from producers.publish import publish

        publish(records, settings, service="hl7")
    print(f"{len(result.events)} visit events, {result.ignored} messages ignored (ADT events and "
          f"BAR^P02 with nothing to bill), {len(result.dead)} messages refused (dead letters)"
          f"{' (dry run)' if args.dry_run else ''}", file=sys.stderr)
    return 1 if result.errors else 0
