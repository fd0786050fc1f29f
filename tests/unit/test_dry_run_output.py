"""`rcm produce ... --dry-run`: every source prints its records the same way (producers.output)."""
from __future__ import annotations

import io
import json
from datetime import UTC, datetime

from producers.output import print_records
from schemas import deadletter
from schemas import topics as T
from schemas.envelope import Outgoing, record
from tests.factories import encounter

AT = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


def printed(records) -> list[dict]:
    out = io.StringIO()
    print_records(records, out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_record_is_printed_with_its_topic_key_and_decoded_value():
    enc = encounter(7)
    [line] = printed([record(T.ENCOUNTERS, enc)])
    assert (line["topic"], line["key"]) == ("encounters", enc["account_id"])
    assert line["value"]["event_id"] == enc["event_id"]
    assert line["value"]["charges"][0]["unit_price_cents"] == enc["charges"][0]["unit_price_cents"]
    assert line["value"]["occurred_at"] == enc["occurred_at"].isoformat()
    assert "bad" not in line


def test_a_dead_letters_payload_is_printed_as_text_even_when_it_is_not_utf8():
    raw = "MSH|^~\\&|X|GENHOSP\rPID|1||caf\u00e9".encode("latin-1")
    dead = deadletter.dead_letter("hl7v2:X:hl7_adapter", "visit-events", "hl7_adapter",
                                  "MALFORMED", "PID: bad", payload=raw, at=AT)
    [line] = printed([record(T.DEAD_LETTERS, dead)])
    assert line["value"]["payload"] == raw.decode("utf-8", errors="replace")
    assert line["value"]["payload"].startswith("MSH|^~\\&|X|GENHOSP\rPID|1||caf")


def test_a_bad_record_that_does_not_decode_is_printed_by_its_kind():
    enc = encounter(3)
    good = record(T.ENCOUNTERS, enc)
    garbage = Outgoing(T.ENCOUNTERS, good.key, b"\x07not avro", bad="garbage")
    decodes = Outgoing(T.ENCOUNTERS, good.key, good.value, bad="zero_units")
    lines = printed([garbage, decodes])
    assert lines[0] == {"topic": "encounters", "key": enc["account_id"], "bad": "garbage"}
    assert lines[1]["bad"] == "zero_units" and lines[1]["value"]["event_id"] == enc["event_id"]
