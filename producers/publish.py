"""Put records on Kafka with kafka-python, stamping `emitted_at` as each record leaves.

Values go out as the bytes the generator encoded (no re-encode): only the emitted_at varint is
swapped in (producers.stamp). Keys are account ids, so kafka-python's murmur2 partitioner puts an
account's events on the same partition the Java and aiokafka clients would.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from producers.stamp import stamp

PROGRESS_EVERY = 1000


def make_producer(bootstrap: str):
    from kafka import KafkaProducer

    return KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,  # retries after a lost ack cannot duplicate a record
        linger_ms=10,
        batch_size=256 * 1024,
        max_request_size=4 * 1024 * 1024,
        compression_type=None,  # on loopback compression costs CPU and saves nothing
        client_id="rcm-synthetic",
    )


def publish(records: Iterable, bootstrap: str, rate: float | None = None,
            progress: Callable[[int, int], None] | None = None, producer=None,
            now_ms: Callable[[], int] | None = None) -> dict:
    """Send every Outgoing record; block until all are acknowledged. Returns counts and timing.

    rate: at most this many records per second (None = as fast as the broker takes them).
    progress(sent, total) is called every PROGRESS_EVERY records and once at the end.
    """
    records = list(records)
    total = len(records)
    own = producer is None
    producer = producer or make_producer(bootstrap)
    clock = now_ms or (lambda: time.time_ns() // 1_000_000)
    failures: list[BaseException] = []
    by_topic: dict[str, int] = {}
    started = time.monotonic()
    try:
        for n, rec in enumerate(records, 1):
            value = rec.value if rec.stamp_at is None else stamp(rec.value, rec.stamp_at, clock())
            producer.send(rec.topic.name, key=rec.key, value=value).add_errback(failures.append)
            by_topic[rec.topic.name] = by_topic.get(rec.topic.name, 0) + 1
            if rate:
                ahead = n / rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
            if progress and n % PROGRESS_EVERY == 0 and n != total:
                progress(n, total)
        producer.flush()
    finally:
        if own:
            producer.close()
    elapsed = time.monotonic() - started
    if progress:
        progress(total, total)
    if failures:
        raise RuntimeError(f"{len(failures)} of {total} records were not acknowledged: {failures[0]!r}")
    return {"sent": total, "by_topic": by_topic, "elapsed_s": round(elapsed, 3),
            "events_per_s": round(total / elapsed, 1) if elapsed > 0 else None}
