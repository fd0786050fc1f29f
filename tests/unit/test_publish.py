"""Publishing: every record sent once with its key, emitted_at stamped and nothing else changed."""
from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from kafka.errors import KafkaTimeoutError
from kafka.future import Future

from infra.settings import Settings
from producers.output import print_records
from producers.publish import Undelivered, publish
from producers.stamp import emitted_at_offset, stamp
from producers.synthetic import generate
from schemas import codec

UNUSED = Settings(kafka_bootstrap_servers="unused:1")  # the fake producer stands in for it


class FakeProducer:
    """kafka-python's producer as far as publishing uses it: send returns a future; the records in
    `refuse` (event ids) fail the first `refusals` times they are sent, the rest succeed."""

    def __init__(self, refuse: frozenset[str] = frozenset(), refusals: int = 0):
        self.sent: list[tuple[str, bytes, bytes]] = []
        self.flushed = False
        self.refuse, self.refusals = refuse, refusals
        self.refused: dict[str, int] = {}

    def send(self, topic, key=None, value=None):
        self.sent.append((topic, key, value))
        try:
            event_id = codec.decode(value)[1].get("event_id")
        except Exception:  # noqa: BLE001 - bad records on purpose
            event_id = None
        if event_id in self.refuse and self.refused.get(event_id, 0) < self.refusals:
            self.refused[event_id] = self.refused.get(event_id, 0) + 1
            return Future().failure(KafkaTimeoutError("expired"))
        return Future().success(None)

    def flush(self, timeout=None):
        self.flushed = True



@pytest.fixture
def backoffs(monkeypatch) -> list[float]:
    """The delivery backoffs between attempts, counted instead of slept."""
    import infra.delivery

    waits: list[float] = []
    monkeypatch.setattr(infra.delivery, "time", SimpleNamespace(
        sleep=waits.append, monotonic=infra.delivery.time.monotonic))
    return waits


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
    stats = publish(scenario.records, UNUSED, producer=fake, now_ms=lambda: now,
                    progress=lambda n, total: progress.append((n, total)), timeout_s=1,
                    attempts=1)
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
    garbage = [line for line in lines if line.get("bad") == "garbage"]
    assert garbage and all("value" not in line and line["key"] for line in garbage)
    assert {"topic": "encounters", "bad": "garbage"} in [
        {k: line[k] for k in ("topic", "bad")} for line in garbage]
    assert sum(1 for line in lines if "value" in line and "bad" not in line) == 1000 - 11


def _event_ids(records) -> list[str]:
    ids = []
    for rec in records:
        try:
            ids.append(codec.decode_for(rec.topic, rec.value)["event_id"])
        except codec.DecodeError:
            continue
    return ids


def test_a_refused_record_is_sent_again_and_only_acknowledged_records_count(backoffs):
    scenario = generate(1200, 5, start=date(2026, 2, 1))
    refuse = frozenset(_event_ids(scenario.records)[10:15])
    fake = FakeProducer(refuse, refusals=1)
    progress = []
    stats = publish(scenario.records, UNUSED, producer=fake, timeout_s=1, attempts=2,
                    progress=lambda n, total: progress.append((n, total)))
    assert stats["sent"] == 1200 and stats["undelivered"] == []
    assert len(fake.sent) == 1205  # the five refused records went out once more
    assert fake.refused == {event_id: 1 for event_id in refuse}
    assert progress[-1] == (1200, 1200)


def test_records_never_acknowledged_are_named_and_raise(backoffs):
    scenario = generate(1200, 6, start=date(2026, 2, 1))
    refuse = frozenset(_event_ids(scenario.records)[100:103])
    fake = FakeProducer(refuse, refusals=99)
    progress = []
    with pytest.raises(Undelivered) as raised:
        publish(scenario.records, UNUSED, producer=fake, timeout_s=1, attempts=3,
                progress=lambda n, total: progress.append((n, total)))
    assert sorted(raised.value.names) == sorted(refuse)
    assert raised.value.delivered == 1197 and raised.value.report.attempts == 3
    assert progress[-1] == (1197, 1200)  # the last progress line counts acknowledgements only
    assert all(fake.refused[event_id] == 3 for event_id in refuse)


def test_attempts_default_to_the_settings_and_an_explicit_value_wins(backoffs):
    scenario = generate(200, 7, start=date(2026, 2, 1))
    refuse = frozenset(_event_ids(scenario.records)[:1])
    settings = Settings(kafka_bootstrap_servers="unused:1", delivery_timeout_s=1.0,
                        delivery_attempts=4)
    for given, made in ((None, 4), (2, 2)):
        fake = FakeProducer(refuse, refusals=99)
        with pytest.raises(Undelivered) as raised:
            publish(scenario.records, settings, producer=fake, attempts=given)
        assert raised.value.report.attempts == made
        assert fake.refused == {event_id: made for event_id in refuse}
    assert backoffs == [1.0] * ((4 - 1) + (2 - 1))  # one backoff between each two attempts


def test_the_wait_of_an_attempt_defaults_to_the_settings_and_an_explicit_value_wins(monkeypatch):
    from infra.delivery import Report
    from producers.tick import send_ticks

    bounds = []

    class Deliverer:  # infra.delivery.Deliverer: the bounds it was built with
        def __init__(self, make, timeout_s, attempts, producer=None):
            bounds.append((timeout_s, attempts))

        def deliver(self, records, *_):
            return Report(total=len(records))

        def close(self):
            pass

    monkeypatch.setattr("producers.publish.Deliverer", Deliverer)
    monkeypatch.setattr("infra.delivery.Deliverer", Deliverer)  # send_ticks imports it when called
    settings = Settings(kafka_bootstrap_servers="unused:1", delivery_timeout_s=7.5,
                        delivery_attempts=5)
    records = generate(3, 8, start=date(2026, 2, 1)).records
    publish(records, settings)
    publish(records, settings, timeout_s=2.0)
    publish(records, settings, attempts=1)
    send_ticks(settings, datetime(2026, 3, 1, tzinfo=UTC))
    send_ticks(settings, datetime(2026, 3, 1, tzinfo=UTC), timeout_s=3.0, attempts=2)
    assert bounds == [(7.5, 5), (2.0, 5), (7.5, 1), (7.5, 5), (3.0, 2)]
