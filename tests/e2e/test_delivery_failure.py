"""A delivery failure injected into the processor's producer, on a real broker: the broker refuses
every write to `ledger-entries` (its `max.message.bytes` set below the size of any batch, so each
produce request is answered MESSAGE_TOO_LARGE). The worker must not commit past an input record
whose output was refused: it stops (exit 75) and, once the broker takes writes again, a new worker
produces everything from the committed offsets, and every balance equals the ground truth.

(`min.insync.replicas` 2 on a one-replica topic does not refuse: the Kafka 4 broker of the tests
took every write, so an earlier version of this test waited for a worker that never failed.)
"""
from __future__ import annotations

import time

import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from infra import pipeline, report
from processors.stage import EXIT_UNDELIVERED
from producers.publish import publish
from producers.synthetic import generate
from schemas import codec
from schemas import topics as T
from tests.support.kafka_client import kafka_options

pytestmark = pytest.mark.e2e


def max_message_bytes(bootstrap: str, topic: T.Topic, n: int) -> None:
    admin = KafkaAdminClient(**kafka_options(bootstrap))
    try:
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic.name, configs={
            "max.message.bytes": str(n), **topic.config()})])
    finally:
        admin.close()


def read(bootstrap: str, topic: T.Topic) -> list[tuple[int, int, dict | None]]:
    """(partition, offset, decoded value or None) of every record on `topic`."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(**kafka_options(bootstrap), enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends, out = consumer.end_offsets(tps), []
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            for tp, msgs in consumer.poll(timeout_ms=500).items():
                for m in msgs:
                    try:
                        value = codec.decode_for(topic, m.value)
                    except codec.DecodeError:
                        value = None
                    out.append((tp.partition, m.offset, value))
        return out
    finally:
        consumer.close()


def test_a_refused_delivery_stops_the_worker_before_its_input_is_committed(run_settings):
    settings = run_settings
    scenario = generate(1500, seed=41)
    max_message_bytes(settings.bootstrap, T.LEDGER_ENTRIES, 64)  # every write is refused
    logs = settings.home / "logs"
    worker = pipeline.rcm_service("process", settings, logs, RCM_DELIVERY_TIMEOUT_S="3",
                                  RCM_DELIVERY_ATTEMPTS="2").start()
    try:
        publish(scenario.records, settings)
        deadline = time.monotonic() + 300
        while worker.alive():
            assert time.monotonic() < deadline, f"the worker went on:\n{worker.tail()}"
            time.sleep(0.5)
    finally:
        worker.stop()
    assert worker.proc.returncode == EXIT_UNDELIVERED, worker.tail()
    assert "not acknowledged" in worker.log.read_text()
    assert read(settings.bootstrap, T.LEDGER_ENTRIES) == []

    # Nothing the worker committed lies past an input record whose ledger entries were refused:
    # below each committed offset, every record of the three posting topics was dead-lettered.
    committed = pipeline.group_offsets(settings, settings.app_id)
    dead = {(d["source_topic"], d["source_partition"], d["source_offset"])
            for _p, _o, d in read(settings.bootstrap, T.DEAD_LETTERS)}
    posting = (T.ENCOUNTERS, T.REMITTANCES, T.PAYMENTS)
    for topic in posting:
        for partition, offset, _value in read(settings.bootstrap, topic):
            if offset < committed.get((topic.name, partition), 0):
                assert (topic.name, partition, offset) in dead, (topic.name, partition, offset)
    assert sum(committed.get((t.name, p), 0) for t in posting for p in range(t.partitions)) < \
        sum(1 for r in scenario.records if r.topic in posting)

    # The broker takes writes again: a new worker redoes the refused work from the commits.
    max_message_bytes(settings.bootstrap, T.LEDGER_ENTRIES, 1048588)  # Kafka's default
    worker = pipeline.rcm_service("process", settings, logs).start()
    sink = pipeline.rcm_service("sink", settings, logs).start()
    try:
        pipeline.wait_drained(settings, [worker, sink], timeout=600)
    finally:
        worker.stop()
        sink.stop()
    assert report.reconcile(settings.dsn, scenario.truth) == []
    assert report.query(settings.dsn, "select count(*) from dead_letters")[0][0] == \
        scenario.truth["counts"]["dead_letters"]
