"""Kafka refuses clients without the right credentials, and each principal is held to its ACLs
(the session's broker runs with SASL/SCRAM-SHA-512 and a deny-by-default authorizer)."""
from __future__ import annotations

import time
import uuid

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import (
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    KafkaAdminClient,
    ResourcePatternFilter,
    ResourceType,
)
from kafka.errors import (
    ClusterAuthorizationFailedError,
    KafkaError,
    KafkaTimeoutError,
    SaslAuthenticationFailedError,
    TopicAuthorizationFailedError,
)
from kafka.structs import OffsetAndMetadata

from infra import pipeline, status
from infra.kafka_acls import ADMIN, OPS
from schemas import topics as T
from tests.support.kafka_client import kafka_options


def _admin(options: dict) -> KafkaAdminClient:
    return KafkaAdminClient(**options, request_timeout_ms=5000, bootstrap_timeout_ms=5000,
                            client_id="rcm-access-test")


def test_the_right_password_is_accepted(kafka_bootstrap):
    admin = _admin(kafka_options(kafka_bootstrap, "processor"))
    try:
        assert T.PAYMENTS.name in admin.list_topics()
    finally:
        admin.close()


def test_a_client_with_no_credentials_is_refused(kafka_bootstrap):
    with pytest.raises(KafkaError):
        admin = _admin({"bootstrap_servers": kafka_bootstrap, "security_protocol": "PLAINTEXT"})
        admin.list_topics()


def test_a_client_with_a_wrong_password_is_refused(kafka_bootstrap):
    options = {**kafka_options(kafka_bootstrap, "processor"), "sasl_plain_password": "not-it"}
    with pytest.raises((SaslAuthenticationFailedError, KafkaTimeoutError)):
        _admin(options).list_topics()  # kafka-python retries a refused login until it gives up


def test_an_unknown_user_is_refused(kafka_bootstrap):
    options = {**kafka_options(kafka_bootstrap, "processor"), "sasl_plain_username": "rcm-nobody"}
    with pytest.raises((SaslAuthenticationFailedError, KafkaTimeoutError)):
        _admin(options).list_topics()  # kafka-python retries a refused login until it gives up


def _send(options: dict, topic: T.Topic) -> None:
    # generous waits: the topics were just recreated, and the test machine is shared
    producer = KafkaProducer(**options, acks="all", max_block_ms=60_000)
    try:
        producer.send(topic.name, key=b"A0000000001", value=b"x").get(timeout=60)
    finally:
        producer.close(timeout=5)


def test_the_processor_cannot_write_payments_but_writes_ledger_entries(fresh_topics):
    with pytest.raises(TopicAuthorizationFailedError):
        _send(kafka_options(fresh_topics, "processor"), T.PAYMENTS)
    _send(kafka_options(fresh_topics, "processor"), T.LEDGER_ENTRIES)


def test_an_adapter_writes_only_its_input_topics(fresh_topics):
    _send(kafka_options(fresh_topics, "hl7"), T.VISIT_EVENTS)
    for topic in (T.ENCOUNTERS, T.LEDGER_ENTRIES, T.ACCOUNT_BALANCES):
        with pytest.raises(TopicAuthorizationFailedError):
            _send(kafka_options(fresh_topics, "hl7"), topic)


def _read(options: dict, topic: T.Topic, expect: int, wait_s: float = 30.0) -> list[bytes]:
    """Read `topic` in a group of the analytics prefix until `expect` records came or `wait_s`
    passed (joining a group on a busy machine takes seconds)."""
    consumer = KafkaConsumer(**options, enable_auto_commit=False,
                             group_id=f"rcm-analytics-{uuid.uuid4().hex[:8]}",
                             auto_offset_reset="earliest")
    values: list[bytes] = []
    deadline = time.monotonic() + wait_s
    try:
        consumer.subscribe([topic.name])
        while len(values) < expect and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                values += [m.value for m in batch]
        return values
    finally:
        consumer.close()


def test_the_analytics_principal_reads_balances_but_not_encounters(fresh_topics):
    _send(kafka_options(fresh_topics, ADMIN), T.ENCOUNTERS)
    _send(kafka_options(fresh_topics, "sink"), T.ACCOUNT_BALANCES)
    assert _read(kafka_options(fresh_topics, "analytics"), T.ACCOUNT_BALANCES, 1) == [b"x"]
    assert _read(kafka_options(fresh_topics, ADMIN), T.ENCOUNTERS, 1) == [b"x"]
    # kafka-python's subscription only logs the refusal ("not authorized") and reads nothing
    assert _read(kafka_options(fresh_topics, "analytics"), T.ENCOUNTERS, 1, wait_s=8) == []
    consumer = KafkaConsumer(**kafka_options(fresh_topics, "analytics"), enable_auto_commit=False)
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            consumer.end_offsets([TopicPartition(T.ENCOUNTERS.name, p)
                                  for p in range(T.ENCOUNTERS.partitions)])
    finally:
        consumer.close()


def test_the_sink_cannot_write_what_the_processor_derives(fresh_topics):
    with pytest.raises(TopicAuthorizationFailedError):
        _send(kafka_options(fresh_topics, "sink"), T.LEDGER_ENTRIES)


def test_the_ops_principal_reads_offsets_lag_and_group_state_but_no_record_and_writes_nothing(
        services, fresh_topics):
    """`rcm status` and the drain watchers' principal (DESCRIBE only): the end offset of a topic,
    a group's committed offset and state, its lag; never a record, never a write."""
    for _ in range(3):
        _send(kafka_options(fresh_topics, ADMIN), T.ENCOUNTERS)
    group = f"rcm-pipeline-ops-{uuid.uuid4().hex[:8]}"
    admin = _admin(kafka_options(fresh_topics, ADMIN))
    try:
        [written] = [tp for tp, end in pipeline.latest_offsets(admin, [
            TopicPartition(T.ENCOUNTERS.name, p) for p in range(T.ENCOUNTERS.partitions)]).items()
            if end == 3]
        admin.alter_group_offsets(group, {written: OffsetAndMetadata(1, "", -1)})
    finally:
        admin.close()

    ops = _admin(kafka_options(fresh_topics, OPS))
    try:
        lags = {g.group: g for g in status.group_statuses(ops)}
        assert lags[group].lag == 2 and lags[group].state == "Empty"
        [part] = lags[group].partitions
        assert (part.topic, part.partition, part.committed, part.end) == (
            written.topic, written.partition, 1, 3)
        topics = {t.topic: t for t in status.topic_statuses(ops, 0)}
        assert topics[T.ENCOUNTERS.name].messages == 3
        with pytest.raises(ClusterAuthorizationFailedError):  # no DESCRIBE on the cluster: no ACLs
            ops.describe_acls(ACLFilter(
                principal=None, host="*", operation=ACLOperation.ANY,
                permission_type=ACLPermissionType.ANY,
                resource_pattern=ResourcePatternFilter(ResourceType.ANY, None,
                                                       ACLResourcePatternType.ANY)))
    finally:
        ops.close()
    settings = services.settings
    pipeline.close_shared()
    assert pipeline.end_offsets(settings, (T.ENCOUNTERS,))[(written.topic, written.partition)] == 3
    assert pipeline.group_offsets(settings, group) == {(written.topic, written.partition): 1}
    assert pipeline.group_state(settings, group) == ("Empty", 0)
    assert pipeline.watcher(settings).client.config["sasl_plain_username"] == "rcm-ops"

    consumer = KafkaConsumer(**kafka_options(fresh_topics, OPS), enable_auto_commit=False)
    try:
        consumer.assign([written])
        consumer.seek(written, 0)
        with pytest.raises(TopicAuthorizationFailedError):
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                assert not consumer.poll(timeout_ms=500), "the ops principal read a record"
    finally:
        consumer.close()
    # not idempotent: an idempotent producer is refused before any topic (InitProducerId needs
    # IDEMPOTENT_WRITE on the cluster or WRITE on some topic); this one asks per topic
    producer = KafkaProducer(**kafka_options(fresh_topics, OPS), acks="all", max_block_ms=60_000,
                             enable_idempotence=False)
    try:
        for topic in T.ALL:
            with pytest.raises(TopicAuthorizationFailedError):
                producer.send(topic.name, key=b"A0000000001", value=b"x").get(timeout=60)
    finally:
        producer.close(timeout=5)
        pipeline.close_shared()

