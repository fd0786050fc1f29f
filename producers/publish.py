"""Put records on Kafka with kafka-python, stamping `emitted_at` as each record leaves.

Values go out as the bytes the generator encoded (no re-encode): only the emitted_at varint is
swapped in (producers.stamp). Keys are account ids, so kafka-python's murmur2 partitioner puts an
account's events on the same partition the Java and aiokafka clients would.

A record counts as published only once the broker acknowledged it (infra.delivery): progress
counts acknowledgements, and what is still unacknowledged after the bounded attempts
(RCM_DELIVERY_ATTEMPTS of the settings publish is given) raises Undelivered, naming the records.
Re-running is harmless: ids are deterministic.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from infra.delivery import Deliverer, Report, producer_config
from infra.settings import Settings
from producers.stamp import stamp

PROGRESS_EVERY = 1000


class Undelivered(RuntimeError):
    """Records the broker did not acknowledge; `names` says which (event id, or position)."""

    def __init__(self, report: Report, names: list[str], delivered: int):
        self.report = report
        self.names = names
        self.delivered = delivered
        super().__init__(f"{len(names)} of {report.total} records were not acknowledged by the "
                         f"broker after {report.attempts} attempt(s) "
                         f"({', '.join(report.errors) or 'no error reported'})")


def make_producer(settings: Settings, timeout_s: float | None = None, service: str = "synthetic"):
    """A producer on the settings' brokers, authenticated as `service` (its Kafka principal may
    write only its topics); `timeout_s` bounds a send (default: RCM_DELIVERY_TIMEOUT_S)."""
    from kafka import KafkaProducer

    from infra.kafka_auth import client_options

    if timeout_s is None:
        timeout_s = settings.delivery_timeout_s

    return KafkaProducer(**{**producer_config(
        settings.bootstrap, timeout_s, f"rcm-{service}",
        linger_ms=10,
        batch_size=256 * 1024,
        max_request_size=4 * 1024 * 1024,
        compression_type=None,  # on loopback compression costs CPU and saves nothing
    ), **client_options(service, settings=settings)})


def delivery_bounds(settings: Settings, timeout_s: float | None = None,
                    attempts: int | None = None) -> tuple[float, int]:
    """(timeout_s, attempts) of a send: those given, else the settings' (RCM_DELIVERY_TIMEOUT_S,
    RCM_DELIVERY_ATTEMPTS)."""
    return (settings.delivery_timeout_s if timeout_s is None else timeout_s,
            settings.delivery_attempts if attempts is None else attempts)


def record_name(rec, position: int) -> str:
    """How a report names a record: its event id when it decodes, else its position and topic."""
    from schemas import codec

    try:
        event_id = codec.decode_for(rec.topic, rec.value).get("event_id")
    except Exception:  # noqa: BLE001 - deliberately bad records do not decode
        event_id = None
    return str(event_id) if event_id else f"record {position + 1} ({rec.topic.name})"


def publish(records: Iterable, settings: Settings, rate: float | None = None,
            progress: Callable[[int, int], None] | None = None, producer=None,
            now_ms: Callable[[], int] | None = None, timeout_s: float | None = None,
            attempts: int | None = None, service: str = "synthetic") -> dict:
    """Send every Outgoing record; return once the broker acknowledged all of them, with counts
    and timing. Raises Undelivered (a RuntimeError) naming what it did not acknowledge.

    settings: the command's: the brokers, how to authenticate, and how delivery is bounded.

    rate: at most this many records per second (None = as fast as the broker takes them).
    progress(acknowledged, total) is called every PROGRESS_EVERY acknowledged records and at the end.
    timeout_s, attempts: per-attempt wait and attempts; None (the default) takes the settings'
    RCM_DELIVERY_TIMEOUT_S and RCM_DELIVERY_ATTEMPTS, a value given wins (the console waits less).
    service: whose Kafka principal sends (infra.kafka_acls: synthetic, hl7, x12, fhir, console).
    """
    timeout_s, attempts = delivery_bounds(settings, timeout_s, attempts)
    records = list(records)
    total = len(records)
    clock = now_ms or (lambda: time.time_ns() // 1_000_000)
    deliverer = Deliverer(lambda: make_producer(settings, timeout_s, service), timeout_s, attempts,
                          producer=producer)
    started = time.monotonic()
    reported = [0]

    def to_send(rec):
        value = rec.value if rec.stamp_at is None else stamp(rec.value, rec.stamp_at, clock())
        return rec.topic.name, rec.key, value

    def pace(n: int) -> None:
        ahead = n / rate - (time.monotonic() - started)
        if ahead > 0:
            time.sleep(ahead)

    def acknowledged(n: int) -> None:
        step = n - n % PROGRESS_EVERY
        if progress and step > reported[0] and n != total:
            reported[0] = step
            progress(step, total)

    try:
        report = deliverer.deliver(records, to_send, pace if rate else None, acknowledged)
    finally:
        deliverer.close()
    elapsed = time.monotonic() - started
    if progress:
        progress(report.delivered, total)
    if not report.ok:
        raise Undelivered(report, [record_name(records[i], i) for i in report.missing],
                          report.delivered)
    by_topic: dict[str, int] = {}
    for rec in records:
        by_topic[rec.topic.name] = by_topic.get(rec.topic.name, 0) + 1
    return {"sent": total, "by_topic": by_topic, "elapsed_s": round(elapsed, 3),
            "events_per_s": round(total / elapsed, 1) if elapsed > 0 else None, "undelivered": []}
