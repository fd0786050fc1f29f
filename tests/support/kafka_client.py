"""The tests' own Kafka clients connect like every service: `KafkaConsumer(**kafka_options(bootstrap))`
authenticates as the admin principal (a super user, so a test may read or write any topic);
`service=` connects as that service's principal instead, allowed only its ACLs. The credentials are
the test process's settings (the session's RCM_KAFKA_SECRETS, tests/conftest.py): a test is its own
edge, as an `rcm` command is."""
from __future__ import annotations

from kafka import KafkaConsumer, TopicPartition

from infra.kafka_acls import ADMIN
from infra.kafka_auth import client_options
from infra.settings import load
from schemas import topics as T


def kafka_options(bootstrap: str | None = None, service: str = ADMIN) -> dict:
    return client_options(service, bootstrap, settings=load())


def read_every_topic(bootstrap: str) -> list:
    """Every record on every topic of the registry (schemas/topics.py), from the start to the end
    offsets of when it began, as the admin principal."""
    consumer = KafkaConsumer(**kafka_options(bootstrap), enable_auto_commit=False)
    try:
        parts = [TopicPartition(t.name, p) for t in T.ALL for p in range(t.partitions)]
        consumer.assign(parts)
        consumer.seek_to_beginning()
        end = consumer.end_offsets(parts)
        records = []
        while any(consumer.position(tp) < end[tp] for tp in parts):
            for batch in consumer.poll(timeout_ms=1000).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()
