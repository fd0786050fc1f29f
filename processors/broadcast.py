"""Reference data every worker reads whole: a compacted topic mirrored into memory.

A faust table holds only the partitions of its worker, and faust-streaming 0.15.3's GlobalTable
never lets the group finish its assignment. Small reference data that a stage reads by another key
than its stream's (the scrub rules, read by payer while claims arrive by account) is therefore
broadcast: each worker runs its own consumer with no group, assigned every partition of the topic,
reading from the beginning and keeping the last value per key.

The mirror reads in a daemon thread (kafka-python) and is caught up once before the worker starts
processing, so a restarted worker applies every rule decided before it stopped; a rule decided
later reaches it within a poll (about a tenth of a second).
"""
from __future__ import annotations

import logging
import threading
import time

from infra.settings import Settings
from schemas.topics import Topic

log = logging.getLogger("rcm.broadcast")


class TopicMirror:
    """The last value per key of every partition of `topic` (bytes -> bytes; a tombstone deletes),
    read from the settings' brokers as the processor's principal."""

    def __init__(self, topic: Topic, settings: Settings, poll_ms: int = 100) -> None:
        self.topic, self.settings, self.poll_ms = topic, settings, poll_ms
        self.data: dict[bytes, bytes] = {}
        self.version = 0  # bumped on every change, so readers can cache what they derive
        self._consumer = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self, catch_up_s: float = 60.0) -> TopicMirror:
        from kafka import KafkaConsumer, TopicPartition

        from infra.kafka_auth import client_options

        consumer = KafkaConsumer(**client_options("processor", settings=self.settings), group_id=None,
                                 enable_auto_commit=False, auto_offset_reset="earliest")
        tps = [TopicPartition(self.topic.name, p) for p in range(self.topic.partitions)]
        try:
            consumer.assign(tps)
            consumer.seek_to_beginning(*tps)
            ends = consumer.end_offsets(tps)
            deadline = time.monotonic() + catch_up_s
            while any(consumer.position(tp) < end for tp, end in ends.items()):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.topic.name}: not read to its end in {catch_up_s} s")
                self._apply(consumer.poll(timeout_ms=self.poll_ms))
        except BaseException:  # e.g. a broker restarting: the caller may start it again
            consumer.close()
            self.data.clear()
            raise
        self._consumer = consumer
        self._thread = threading.Thread(target=self._run, name=f"mirror-{self.topic.name}",
                                        daemon=True)
        self._thread.start()
        return self

    def _apply(self, batches) -> None:
        for records in batches.values():
            for r in records:
                if r.value is None:
                    self.data.pop(r.key, None)
                else:
                    self.data[r.key] = r.value
            self.version += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._apply(self._consumer.poll(timeout_ms=self.poll_ms))
            except Exception:  # a broker outage: the client reconnects; keep the last rules
                log.exception("reading %s failed; retrying", self.topic.name)
                time.sleep(1.0)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._consumer is not None:
            self._consumer.close()
