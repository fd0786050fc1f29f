"""Confirmed delivery with kafka-python: nothing counts as published until its future succeeded.

kafka-python's `flush()` returns normally when sends failed, and an idempotent producer that lost
the broker can wait for a producer id without ever expiring its batches, so a plain `flush()` may
block forever. Here every send keeps its future; waiting is bounded (RCM_DELIVERY_TIMEOUT_S per
attempt); a record that was not acknowledged is sent again, by a fresh producer when the old one
failed or stalled, up to RCM_DELIVERY_ATTEMPTS times. What is still missing after that is
reported by position, never silently dropped. Re-sending is harmless: ids are deterministic.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kafka.errors import KafkaError, KafkaTimeoutError

log = logging.getLogger("rcm.delivery")

Send = tuple  # (topic name, key, value) or (topic name, key, value, partition)
WAIT_SLICE_S = 0.5  # how often a waiting caller hears about progress


@dataclass(frozen=True)
class Report:
    total: int
    missing: tuple[int, ...] = ()  # positions the broker never acknowledged
    errors: tuple[str, ...] = ()  # distinct error names seen on the way (no record contents)
    attempts: int = 0

    @property
    def delivered(self) -> int:
        return self.total - len(self.missing)

    @property
    def ok(self) -> bool:
        return not self.missing


def producer_config(bootstrap: str, timeout_s: float, client_id: str, **extra) -> dict:
    """KafkaProducer settings whose own timeouts fit inside one delivery attempt."""
    timeout_ms = max(1000, int(timeout_s * 1000))
    linger_ms = int(extra.pop("linger_ms", 5))
    return {
        "bootstrap_servers": bootstrap, "acks": "all", "enable_idempotence": True,
        "linger_ms": linger_ms, "client_id": client_id,
        "delivery_timeout_ms": timeout_ms,
        # kafka-python refuses delivery_timeout_ms < linger_ms + request_timeout_ms
        "request_timeout_ms": min(30_000, max(500, timeout_ms - linger_ms - 100)),
        "max_block_ms": timeout_ms,  # send() waiting for metadata of an absent broker
        "bootstrap_timeout_ms": timeout_ms,  # the constructor's first connection (default 30 s)
        **extra,
    }


def abandon(producer) -> None:
    """Close a producer without waiting for it: what it still holds fails, nothing blocks."""
    try:
        producer.close(timeout=0)
        return
    except KafkaError:
        pass
    # close() flushes first and raises while batches are incomplete, so it never reaches its own
    # force close; abort them the way close() would have, then close.
    sender = getattr(producer, "_sender", None)
    if sender is not None:
        sender.force_close()
    try:
        producer.close(timeout=5)
    except KafkaError as exc:
        log.warning("a stalled producer did not close (%s)", type(exc).__name__)


@dataclass
class _Acks:
    """Counts acknowledgements from the producer's I/O thread."""

    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, _metadata: Any = None) -> None:
        with self.lock:
            self.count += 1


class Deliverer:
    """Owns one kafka-python producer (made by `make`) and replaces it when it fails or stalls."""

    def __init__(self, make: Callable[[], Any], timeout_s: float, attempts: int,
                 backoff_s: float = 1.0, producer=None) -> None:
        self.make = make
        self.timeout_s = timeout_s
        self.attempts = max(1, attempts)
        self.backoff_s = backoff_s
        self.producer = producer
        self.owned = producer is None

    def deliver(self, records: Sequence, to_send: Callable[[Any], Send] | None = None,
                pace: Callable[[int], None] | None = None,
                progress: Callable[[int], None] | None = None) -> Report:
        """Send every record and wait (bounded) until the broker has each of them.

        to_send(record) gives (topic, key, value) at the moment it leaves (default: the record's
        topic name, key and value); pace(n) is called after the n-th send of the first attempt
        (rate limits); progress(acknowledged) is called while waiting.
        """
        to_send = to_send or _plain
        pending = list(range(len(records)))
        acks = _Acks()
        errors: dict[str, None] = {}
        attempt = 0
        while pending and attempt < self.attempts:
            if attempt:
                time.sleep(self.backoff_s)
            attempt += 1
            try:
                futures, failed = self._send(records, pending, to_send, acks,
                                             pace if attempt == 1 else None, progress)
            except KafkaError as exc:  # no producer at all (NoBrokersAvailable while it starts)
                errors[type(exc).__name__] = None
                log.warning("delivery attempt %d of %d: no producer (%s)", attempt,
                            self.attempts, type(exc).__name__)
                continue
            if failed is not None:
                errors[failed] = None
            self._wait(futures, acks, progress)
            stalled = False
            still = []
            for i in pending:
                future = futures.get(i)
                if future is not None and future.is_done and future.succeeded():
                    continue
                still.append(i)
                if future is None:
                    continue
                if not future.is_done:
                    stalled = True
                    errors["not acknowledged within RCM_DELIVERY_TIMEOUT_S"] = None
                else:
                    errors[type(future.exception).__name__] = None
            if still or stalled:
                self._replace()  # a failed or stalled idempotent producer may never recover
            if still:
                log.warning("delivery attempt %d of %d: %d of %d records not acknowledged",
                            attempt, self.attempts, len(still), len(pending))
            pending = still
        if progress:
            progress(acks.count)
        return Report(len(records), tuple(pending), tuple(errors), attempt)

    def _send(self, records, pending, to_send, acks, pace, progress):
        producer = self.producer = self.producer or self.make()
        futures = {}
        for n, i in enumerate(pending, 1):
            topic, key, value, *partition = to_send(records[i])
            where = {"partition": partition[0]} if partition else {}
            try:
                future = producer.send(topic, key=key, value=value, **where)
            except KafkaTimeoutError:  # no metadata within max_block_ms: the broker is away
                return futures, "KafkaTimeoutError (metadata)"
            future.add_callback(acks.add)
            futures[i] = future
            if pace:
                pace(n)
            if progress and n % 1000 == 0:
                progress(acks.count)
        return futures, None

    def _wait(self, futures: dict, acks: _Acks, progress) -> None:
        deadline = time.monotonic() + self.timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                self.producer.flush(timeout=min(WAIT_SLICE_S, left))
                return
            except KafkaTimeoutError:
                if progress:
                    progress(acks.count)

    def _replace(self) -> None:
        if self.producer is not None and self.owned:
            abandon(self.producer)
            self.producer = None
        # a producer handed in by the caller is the caller's to close; keep using it

    def close(self) -> None:
        if self.producer is not None and self.owned:
            try:
                self.producer.close(timeout=self.timeout_s)
            except KafkaError:
                abandon(self.producer)
            self.producer = None


def _plain(record) -> Send:
    topic = record.topic if isinstance(record.topic, str) else record.topic.name
    return topic, record.key, record.value
