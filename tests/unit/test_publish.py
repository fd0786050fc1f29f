"""Publishing: every record sent once with its key, emitted_at stamped and nothing else changed."""
from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime

from producers.cli import print_records
from producers.publish import publish
from producers.stamp import emitted_at_offset, stamp
from producers.synthetic import generate
from schemas import codec


class _Future:
    def add_errback(self, fn):
        return self


class FakeProducer:
    def __init__(self):
        self.sent: list[tuple[str, bytes, bytes]] = []
        self.flushed = False

    def send(self, topic, key=None, value=None):
        self.sent.append((topic, key, value))
        return _Future()

    def flush(self):
        self.flushed = True


def test_stamping_changes_only_emitted_at():
    rec = {"event_id": "pay-1", "payment_id": "P1", "account_id": "A0000000018",
           "occurred_at": 1_700_000_000_000, "emitted_at": 1_700_000_000_000, "kind": "PAYMENT",
           "method": "CARD", "amount_cents": 1234}
    value = codec.encode("PaymentReceived", rec)
    for now in (1_800_000_000_123, 5, 2**44):
        stamped = stamp(value, emitted_at_offset("PaymentReceived", rec), now)
        _, back = codec.decode(stamped)
        assert int(back["emitted_at"].timestamp() * 1000) == now
        assert back["amount_cents"] == 1234 and back["method"] == "CARD"


def test_publish_sends_every_record_with_its_key_and_stamps_the_decodable_ones():
    scenario = generate(1500, 4, start=date(2026, 2, 1))
    fake, now = FakeProducer(), 1_790_000_000_000
    progress = []
    stats = publish(scenario.records, "unused:1", producer=fake, now_ms=lambda: now,
                    progress=lambda n, total: progress.append((n, total)))
    assert stats["sent"] == 1500 and fake.flushed
    assert stats["by_topic"] == scenario.truth["counts"]["records_by_topic"]
    assert progress[-1] == (1500, 1500) and progress[0] == (1000, 1500)
    for rec, (topic, key, value) in zip(scenario.records, fake.sent):
        assert (topic, key) == (rec.topic.name, rec.key)
        if rec.stamp_at is None:
            assert value == rec.value
            continue
        got = codec.decode_for(rec.topic, value)
        want = codec.decode_for(rec.topic, rec.value)
        assert got["emitted_at"] == datetime.fromtimestamp(now / 1000, UTC)
        assert {**got, "emitted_at": None} == {**want, "emitted_at": None}


def test_dry_run_prints_good_records_decoded_and_bad_ones_by_kind():
    scenario = generate(1000, 9, start=date(2026, 2, 1))
    out = io.StringIO()
    print_records(scenario.records, out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 1000
    assert {"topic": "encounters", "bad": "garbage"} in lines
    assert sum(1 for line in lines if "value" in line and "bad" not in line) == 1000 - 11
