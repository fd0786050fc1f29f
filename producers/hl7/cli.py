"""`rcm produce hl7 FILE... [--dry-run]`: HL7 v2 ADT/DFT^P03 files -> `visit-events`.

Each message becomes its VisitEvent(s); a message the adapter refuses becomes a dead letter and a
line on stderr naming file, message, line, segment and reason. The good messages in a file still
go through; the exit code is 1 when any message was refused.
"""
from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from producers.hl7.files import split_messages
from producers.hl7.parse import MessageError, visit_events
from producers.hl7.records import dead_letter, line_of, outgoing
from schemas import topics as T


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="HL7 v2 files (one or more messages "
                        "each; \\r, \\n or \\r\\n segments; MLLP framing allowed)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the events as JSON lines (refused messages on stderr); no Kafka")


def _jsonable(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    raise TypeError(type(value).__name__)


def read(paths: list[str], now: datetime) -> tuple[list[dict], list[dict], list[str]]:
    """(events, dead letters, error lines) for the files, in file order."""
    events: list[dict] = []
    dead: list[dict] = []
    errors: list[str] = []
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            errors.append(f"{path}: cannot read ({exc.strerror})")
            continue
        messages = split_messages(data)
        if not messages:
            errors.append(f"{path}: no HL7 messages")
        for raw in messages:
            try:
                events.extend(visit_events(raw.text, now))
            except MessageError as err:
                where = f"{path}:message {raw.number} (line {line_of(raw, err.segment)})"
                dead.append(dead_letter(raw.payload, err, where))
                errors.append(f"{where}: {err.segment}: {err.reason}")
    return events, dead, errors


def cmd_produce(args) -> int:
    events, dead, errors = read(args.files, datetime.now(UTC))
    for line in errors:
        print(line, file=sys.stderr)
    if args.dry_run:
        for rec in events:
            print(json.dumps({"topic": T.VISIT_EVENTS.name, "value": rec}, default=_jsonable))
    else:
        from infra.settings import load
        from producers.publish import publish

        records = [outgoing(T.VISIT_EVENTS, r) for r in events]
        records += [outgoing(T.DEAD_LETTERS, d) for d in dead]
        publish(records, load().bootstrap)
    print(f"{len(events)} visit events, {len(dead)} messages refused (dead letters)"
          f"{' (dry run)' if args.dry_run else ''}", file=sys.stderr)
    return 1 if errors else 0
