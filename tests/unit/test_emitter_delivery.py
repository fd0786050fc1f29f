"""The processor's emitter returns only once the broker acknowledged every batch it sent."""
from __future__ import annotations

import asyncio

from aiokafka.errors import KafkaTimeoutError

from processors.stage import Outgoing, ProducerEmitter
from schemas.topics import LEDGER_ENTRIES


class Batch:
    def __init__(self):
        self.records: list[bytes] = []

    def append(self, key, value, timestamp):
        self.records.append(value)
        return self


class Producer:
    """aiokafka's batch API: the first `failures` batches fail, the rest are acknowledged."""

    def __init__(self, failures: int):
        self.failures = failures
        self.delivered: list[bytes] = []

    def create_batch(self):
        return Batch()

    async def send_batch(self, batch, topic, partition):
        future = asyncio.get_running_loop().create_future()
        if self.failures:
            self.failures -= 1
            future.set_exception(KafkaTimeoutError())
        else:
            self.delivered += batch.records
            future.set_result(None)
        return future


def _records(n: int) -> list[Outgoing]:
    return [Outgoing(LEDGER_ENTRIES, f"A{i}".encode(), f"v{i}".encode()) for i in range(n)]


def test_a_failed_batch_is_sent_again_before_the_emitter_returns():
    producer, reasons = Producer(failures=2), []
    emitter = ProducerEmitter(producer, timeout_s=1, attempts=3, give_up=reasons.append)
    asyncio.run(emitter.send_many(_records(40)))
    assert sorted(producer.delivered) == sorted(f"v{i}".encode() for i in range(40))
    assert reasons == []


def test_records_never_acknowledged_stop_the_worker_instead_of_returning():
    producer, reasons = Producer(failures=10_000), []
    emitter = ProducerEmitter(producer, timeout_s=1, attempts=2, give_up=reasons.append)
    asyncio.run(emitter.send_many(_records(40)))
    assert producer.delivered == []
    assert len(reasons) == 1 and reasons[0].startswith("40 records not acknowledged after 2")


class TopicProducer(Producer):
    """Fails every batch of the topics in `failing`; logs (topic, value) of delivered ones."""

    def __init__(self, failing=()):
        super().__init__(failures=0)
        self.failing, self.log = set(failing), []

    async def send_batch(self, batch, topic, partition):
        future = asyncio.get_running_loop().create_future()
        if topic in self.failing:
            future.set_exception(KafkaTimeoutError())
        else:
            self.log += [(topic, v) for v in batch.records]
            future.set_result(None)
        return future


def _with_state() -> list[Outgoing]:
    from schemas.topics import CLAIM_ACCOUNTS, REMITTANCES

    return [Outgoing(CLAIM_ACCOUNTS, b"CLM-1", b"entry: released"),
            Outgoing(REMITTANCES, b"A1", b"released remittance"), *_records(3)]


def test_state_changes_reach_the_broker_only_after_every_result_they_record():
    producer = TopicProducer()
    asyncio.run(ProducerEmitter(producer, timeout_s=1, attempts=1).send_many(_with_state()))
    topics = [t for t, _ in producer.log]
    assert topics[-1] == "claim-accounts" and topics.count("claim-accounts") == 1
    assert sorted(topics[:-1]) == ["ledger-entries"] * 3 + ["remittances"]


def test_a_result_never_acknowledged_leaves_the_state_unchanged_on_the_broker():
    # a worker killed here restores the old state: the redelivered claim releases its remittances
    class Stopped(Exception):
        pass

    def give_up(reason):
        raise Stopped(reason)

    producer = TopicProducer(failing={"remittances"})
    emitter = ProducerEmitter(producer, timeout_s=1, attempts=2, give_up=give_up)
    try:
        asyncio.run(emitter.send_many(_with_state()))
    except Stopped:
        pass
    assert "claim-accounts" not in {t for t, _ in producer.log}


def test_a_send_that_blocks_counts_as_a_failed_attempt():
    # aiokafka holds a partition's next batch while the broker keeps refusing the previous one
    class Blocking(Producer):
        async def send_batch(self, batch, topic, partition):
            await asyncio.sleep(3600)

    reasons = []
    emitter = ProducerEmitter(Blocking(0), timeout_s=0.2, attempts=2, give_up=reasons.append)
    asyncio.run(emitter.send_many(_records(5)))
    assert len(reasons) == 1 and "send blocked" in reasons[0]
