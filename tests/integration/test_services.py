"""The local services the pipeline runs on: a real Kafka broker and a real PostgreSQL."""
from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg2
import pytest

from schemas import codec
from schemas import topics as T
from tests.support.kafka_client import kafka_options

pytestmark = pytest.mark.integration


@pytest.mark.e2e
def test_broker_round_trips_a_record_on_a_registry_topic(fresh_topics):
    from kafka import KafkaConsumer, KafkaProducer

    marker = uuid.uuid4().hex
    record = {"event_id": f"roundtrip:{marker}", "source_topic": T.ENCOUNTERS.name,
              "source_partition": 0, "source_offset": 0, "stage": "test", "error": "INVALID",
              "reason": "round trip", "key": None, "payload": b"",
              "dead_lettered_at": datetime.now(UTC)}
    producer = KafkaProducer(**kafka_options(fresh_topics), acks="all")
    producer.send(T.DEAD_LETTERS.name, key=codec.key_of(T.DEAD_LETTERS, record),
                  value=codec.encode("DeadLetter", record)).get(timeout=30)
    producer.close()

    consumer = KafkaConsumer(T.DEAD_LETTERS.name, **kafka_options(fresh_topics),
                             group_id=f"test-{marker}", auto_offset_reset="earliest")
    received: list[dict] = []
    deadline = time.monotonic() + 30
    try:
        while not received and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                received += [codec.decode_for(T.DEAD_LETTERS, m.value) for m in batch]
    finally:
        consumer.close()
    assert [r["event_id"] for r in received] == [f"roundtrip:{marker}"]


@pytest.mark.e2e
def test_every_registry_topic_exists_with_its_partitions(kafka_bootstrap):
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(**kafka_options(kafka_bootstrap))
    try:
        described = {d["name"]: len(d["partitions"])
                     for d in admin.describe_topics([t.name for t in T.ALL])}
    finally:
        admin.close()
    assert described == {t.name: t.partitions for t in T.ALL}


def test_postgres_answers_and_runs_as_a_non_root_user(services, pg_admin_dsn):
    with psycopg2.connect(pg_admin_dsn) as conn, conn.cursor() as cur:
        cur.execute("select 1")
        assert cur.fetchone() == (1,)
        cur.execute("select pg_backend_pid()")
        backend = cur.fetchone()[0]
    if not services.manages_postgres:
        pytest.skip("RCM_DATABASE_URL points at an outside server; its OS user is not ours to check")
    status = Path(f"/proc/{backend}/status").read_text()
    real_uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
    assert real_uid != 0


def test_database_url_is_a_fresh_migrated_database(database_url, pg_admin_dsn):
    assert database_url != pg_admin_dsn
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("select current_database()")
        assert cur.fetchone()[0].startswith("rcm_test_")


def test_rcm_env_prints_both_exports(services):
    out = subprocess.run([sys.executable, "-m", "infra.cli", "env"], check=True,
                         capture_output=True, text=True, env=dict(os.environ)).stdout
    assert f"export RCM_KAFKA_BOOTSTRAP_SERVERS={services.bootstrap}" in out.splitlines()
    assert f"export RCM_DATABASE_URL={shlex.quote(services.admin_dsn)}" in out.splitlines()


def test_up_twice_keeps_the_same_servers(services, monkeypatch):
    from infra import kafka, postgres
    from infra import services as infra_services
    from infra.settings import load

    if not (services.manages_kafka and services.manages_postgres):
        pytest.skip("services come from RCM_KAFKA_BOOTSTRAP_SERVERS / RCM_DATABASE_URL, not `up`")
    monkeypatch.delenv("RCM_KAFKA_BOOTSTRAP_SERVERS")
    monkeypatch.delenv("RCM_DATABASE_URL")
    settings = load()
    pids = (kafka.running_pid(settings), postgres.running_pid(settings))

    assert infra_services.up(settings) == (services.bootstrap, services.admin_dsn)
    assert infra_services.up(settings) == (services.bootstrap, services.admin_dsn)

    assert None not in pids
    assert (kafka.running_pid(settings), postgres.running_pid(settings)) == pids
