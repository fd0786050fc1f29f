"""What `rcm produce ... --dry-run` prints: each record it would publish as one JSON line, the same
for every source (synthetic, decisions, hl7, fhir, x12)."""
from __future__ import annotations

import json
import sys
from datetime import date, datetime

from schemas import codec


def _jsonable(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, bytes):  # a dead letter's payload: the raw message, readable
        return value.decode("utf-8", errors="replace")
    raise TypeError(type(value).__name__)


def as_line(rec) -> dict:
    """{"topic", "key", "value"} (the value decoded), plus "bad" (the synthetic bad-record kind);
    a bad record that does not decode has no "value"."""
    line = {"topic": rec.topic.name, "key": rec.key.decode("utf-8", errors="replace")}
    try:
        line["value"] = codec.decode_for(rec.topic, rec.value)
    except codec.DecodeError:
        if not rec.bad:
            raise
    if rec.bad:
        line["bad"] = rec.bad
    return line


def print_records(records, out=None) -> None:
    """One JSON line per record on `out` (stdout); a reader that closed the pipe (`| head`) ends it
    quietly."""
    out = out or sys.stdout
    try:
        for rec in records:
            out.write(json.dumps(as_line(rec), default=_jsonable) + "\n")
    except BrokenPipeError:
        if out is sys.stdout:
            sys.stdout = open("/dev/null", "w")  # noqa: SIM115 - keeps the exit flush quiet
