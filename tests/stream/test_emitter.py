"""The producer emitter returns only when the broker has every batch, and sends a partition again
when its batch is lost (a timed-out request expires it; flush before commit would not notice)."""
from __future__ import annotations

import asyncio

from aiokafka.errors import KafkaTimeoutError

from processors.stage import Outgoing, ProducerEmitter
from schemas import topics as T


class Batch:
    def __init__(self):
        self.records = []

    def append(self, key, value, timestamp):
        if len(self.records) == 2:
            return None  # full
        self.records.append((key, value))
        return object()


class FakeProducer:
    """Fails the first delivery of partition 1 and refuses one enqueue of partition 2."""

    def __init__(self):
        self.delivered: list[tuple[str, int, list]] = []
        self.failures = {("ledger-entries", 1): "deliver", ("ledger-entries", 2): "enqueue"}

    def create_batch(self):
        return Batch()

    async def send_batch(self, batch, topic, partition):
        fail = self.failures.pop((topic, partition), None)
        if fail == "enqueue":
            raise KafkaTimeoutError()
        future = asyncio.get_running_loop().create_future()
        if fail == "deliver":
            future.set_exception(KafkaTimeoutError())
        else:
            future.set_result(None)
            self.delivered.append((topic, partition, list(batch.records)))
        return future


class App:
    def __init__(self, producer):
        self.producer = type("P", (), {"_ensure_producer": lambda _self: producer})()


def test_lost_batches_are_sent_again_in_order_before_send_many_returns():
    producer = FakeProducer()
    emitter = ProducerEmitter(App(producer))
    emitter.RETRY_S = (0,)
    out = [Outgoing(T.LEDGER_ENTRIES, f"k{i}".encode(), f"v{i}".encode(), partition=i % 3)
           for i in range(9)]
    asyncio.run(emitter.send_many(out))
    by_partition: dict[int, list] = {}
    for _topic, partition, records in producer.delivered:
        by_partition.setdefault(partition, []).extend(v for _k, v in records)
    for p in range(3):
        expected = [f"v{i}".encode() for i in range(9) if i % 3 == p]
        # The partition is sent again whole: it ends with every record in order, so the latest
        # state of a key is the latest written (earlier copies are repeats the ids make harmless).
        assert by_partition[p][-len(expected):] == expected
    assert len(by_partition[1]) > 3 and len(by_partition[2]) == 3  # 1 resent; 2 never enqueued
    assert producer.failures == {}
