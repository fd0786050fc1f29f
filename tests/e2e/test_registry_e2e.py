"""A standard registry-aware client reads every topic of a run (issue 12): confluent-kafka's
AvroDeserializer against the running registry, not this project's codec."""
from __future__ import annotations

import socket
from dataclasses import replace

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from infra import pipeline
from infra import registry as schema_registry
from producers.bad import KINDS
from producers.publish import publish
from producers.synthetic import generate
from schemas import codec
from schemas import topics as T
from tests.support.kafka_client import read_every_topic

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def registry_run(run_settings, monkeypatch):
    settings = replace(run_settings, registry_port=free_port())
    schema_registry.start(settings)
    try:
        schema_registry.register_all(settings.registry_url)
        monkeypatch.setenv("RCM_SCHEMA_REGISTRY_URL", settings.registry_url)
        codec.use_registry(settings.registry_url)
        yield settings
    finally:
        codec.use_registry("")
        schema_registry.stop(settings)


def test_every_topic_decodes_with_confluent_kafkas_avro_deserializer(registry_run):
    settings = registry_run
    scenario = generate(400, seed=31)
    logs = settings.home / "logs"
    processor = pipeline.rcm_service("process", settings, logs).start()
    sink = pipeline.rcm_service("sink", settings, logs).start()
    try:
        publish(scenario.records, settings)
        pipeline.wait_drained(settings, [processor, sink], timeout=600)
    finally:
        processor.stop()
        sink.stop()

    client = SchemaRegistryClient({"url": settings.registry_url})
    deserializer = AvroDeserializer(client)
    registry_ids = {client.get_latest_version(f"{t.name}-value").schema_id for t in T.ALL}
    decoded: dict[str, int] = {}
    undecodable: dict[str, int] = {}
    for message in read_every_topic(settings.bootstrap):
        if message.value is None:  # a tombstone on a compacted topic
            continue
        try:
            ours = codec.decode(message.value)[1]
        except codec.DecodeError:  # the scenario's deliberately bad input records
            undecodable[message.topic] = undecodable.get(message.topic, 0) + 1
            continue
        assert int.from_bytes(message.value[1:5], "big") in registry_ids
        theirs = deserializer(message.value, SerializationContext(message.topic, MessageField.VALUE))
        assert theirs == ours, message.topic
        decoded[message.topic] = decoded.get(message.topic, 0) + 1

    counts = scenario.truth["counts"]
    unreadable: dict[str, int] = {}  # bytes no Avro reader can read: not the wire format, cut short
    for kind, by_topic in counts["bad_by_kind"].items():
        if KINDS[kind][0] in ("MALFORMED", "UNKNOWN_SCHEMA"):
            for name, n in by_topic.items():
                unreadable[name] = unreadable.get(name, 0) + n
    assert undecodable == unreadable
    for topic in (T.ENCOUNTERS, T.REMITTANCES, T.PAYMENTS, T.APPEALS):
        assert decoded[topic.name] == counts["records_by_topic"][topic.name] - unreadable.get(
            topic.name, 0)
    for topic in ("encounters-coded", "claims", "ledger-entries", "denials", "account-balances",
                  "dead-letters", "coding-review"):
        assert decoded.get(topic, 0) > 0, topic
