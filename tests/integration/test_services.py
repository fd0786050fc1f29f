"""The local services the pipeline runs on: a real Kafka broker and a real PostgreSQL, the
session's and the ones `rcm up` starts under a home of the module's own."""
from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

import psycopg2
import pytest

from schemas import codec
from schemas import topics as T
from tests.support.kafka_client import kafka_options

pytestmark = pytest.mark.integration


def free_ports(count: int = 1) -> int:
    """The first of `count` consecutive ports free on 127.0.0.1 (a Kafka node's controller
    listens on the port after its broker's)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            first = s.getsockname()[1]
        try:
            for port in range(first + 1, first + count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return first


@dataclass(frozen=True)
class OwnServices:
    env: dict[str, str]  # exactly the environment of its `rcm` commands
    kafka_port: int
    postgres_port: int

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @contextmanager
    def environment(self):
        with mock.patch.dict(os.environ, self.env, clear=True):
            yield

    @property
    def settings(self):
        from infra.settings import load

        with self.environment():
            return load()

    def rcm(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "infra.cli", *args], env=self.env,
                              capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def own_up(tmp_path_factory) -> Iterator[OwnServices]:
    """`rcm up` under an RCM_HOME and on ports of this module's own, with no other RCM_* setting:
    whatever servers the session's RCM_KAFKA_BOOTSTRAP_SERVERS / RCM_DATABASE_URL name, these
    tests start Kafka, PostgreSQL and the registry themselves, check them, and `rcm down` them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCM_")}
    own = OwnServices({**env, "RCM_HOME": str(tmp_path_factory.mktemp("rcm-up")),
                       "RCM_KAFKA_PORT": str(kafka_port := free_ports(2)),
                       "RCM_POSTGRES_PORT": str(postgres_port := free_ports()),
                       "RCM_SCHEMA_REGISTRY_PORT": str(free_ports())},
                      kafka_port, postgres_port)
    try:
        up = own.rcm("up")
        assert up.returncode == 0, up.stdout + up.stderr
        yield own
    finally:
        down = own.rcm("down", "--purge")
        assert down.returncode == 0, down.stdout + down.stderr


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


def test_postgres_rcm_up_starts_answers_and_runs_as_a_non_root_user(own_up):
    with psycopg2.connect(own_up.settings.dsn) as conn, conn.cursor() as cur:
        cur.execute("select 1")
        assert cur.fetchone() == (1,)
        cur.execute("select pg_backend_pid()")
        backend = cur.fetchone()[0]
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


def test_up_twice_keeps_the_same_servers(own_up):
    from infra import kafka, postgres, registry
    from infra import services as infra_services

    settings, servers = own_up.settings, (own_up.bootstrap, own_up.settings.dsn)
    pids = (kafka.running_pid(settings), postgres.running_pid(settings),
            registry.running_pid(settings))
    assert None not in pids
    assert f"@127.0.0.1:{own_up.postgres_port}/" in settings.dsn

    with own_up.environment():  # `up` reads which servers are ours from the environment
        assert infra_services.up(settings) == servers
        assert infra_services.up(settings) == servers

    assert (kafka.running_pid(settings), postgres.running_pid(settings),
            registry.running_pid(settings)) == pids
