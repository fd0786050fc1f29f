"""The sink service against real Kafka and PostgreSQL: resumes from PostgreSQL, dead-letters, publishes."""
from __future__ import annotations

import dataclasses
import threading

import psycopg2
import pytest
from kafka import KafkaConsumer, KafkaProducer

from infra.settings import Settings
from processors.ledger.rules import (
    entries_for_encounter,
    entries_for_payment,
    entries_for_remittance,
    journals,
)
from schemas import codec
from schemas.topics import ACCOUNT_BALANCES, LEDGER_ENTRIES
from sinks.postgres.service import run_sink
from tests import factories as f
from tests.support.kafka_client import kafka_options

pytestmark = pytest.mark.e2e


def settings_for(bootstrap: str, dsn: str, group: str = "sink-test") -> Settings:
    return dataclasses.replace(Settings(), kafka_bootstrap_servers=bootstrap, database_url=dsn,
                               sink_group=group, sink_metrics_port=0)


def publish(bootstrap: str, entries: list[dict], garbage: int = 0) -> None:
    producer = KafkaProducer(**kafka_options(bootstrap), acks="all")
    for j in journals(entries):
        producer.send(LEDGER_ENTRIES.name, key=codec.key_of(LEDGER_ENTRIES, j),
                      value=codec.encode(LEDGER_ENTRIES.value_schema, j))
    for i in range(garbage):
        producer.send(LEDGER_ENTRIES.name, key=b"k", value=b"\x00\x00\x00\x03\xe7garbage" + bytes([i]))
    producer.flush()
    producer.close()


def query(dsn, sql):
    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        cur.execute(sql)
        rows = cur.fetchall()
    conn.close()
    return rows


def ledger(n: int) -> list[dict]:
    return (entries_for_encounter(f.encounter(n)) + entries_for_remittance(f.remittance(n))
            + entries_for_payment(f.payment(n, cents=300)))


def test_sink_applies_each_entry_once_and_resumes_from_postgres(fresh_topics, database_url):
    entries = [e for n in range(1, 41) for e in ledger(n)]
    publish(fresh_topics, entries, garbage=2)
    settings = settings_for(fresh_topics, database_url)
    assert run_sink(settings, idle_exit_s=3) == len(journals(entries)) + 2
    # A second group reads everything again: idempotency, not Kafka offsets, keeps the money right.
    assert run_sink(dataclasses.replace(settings, sink_group="sink-test-2"), idle_exit_s=3) == len(journals(entries)) + 2
    # The first group resumes where PostgreSQL says, even though Kafka would also know.
    publish(fresh_topics, ledger(41))
    assert run_sink(settings, idle_exit_s=3) == len(journals(ledger(41)))

    all_entries = entries + ledger(41)
    [(n, total)] = query(database_url, "SELECT count(*), sum(insurance_delta_cents + patient_delta_cents)"
                                       " FROM ledger_entries")
    assert (n, total) == (len(all_entries), sum(e["insurance_delta_cents"] + e["patient_delta_cents"]
                                                for e in all_entries))
    [(balance_total, entry_count)] = query(database_url, "SELECT sum(total_cents), sum(entries) FROM account_balances")
    assert (balance_total, entry_count) == (total, len(all_entries))
    dead = query(database_url, "SELECT stage, error FROM dead_letters")
    assert dead == [("sink", "UNKNOWN_SCHEMA")] * 2


def test_sink_publishes_committed_balances(fresh_topics, database_url):
    publish(fresh_topics, ledger(1) + ledger(2))
    run_sink(settings_for(fresh_topics, database_url), idle_exit_s=3)
    consumer = KafkaConsumer(ACCOUNT_BALANCES.name, **kafka_options(fresh_topics),
                             auto_offset_reset="earliest", consumer_timeout_ms=3000)
    latest = {}
    for msg in consumer:
        latest[msg.key.decode()] = codec.decode_for(ACCOUNT_BALANCES, msg.value)
    consumer.close()
    stored = dict(query(database_url, "SELECT account_id, total_cents FROM account_balances"))
    assert {k: v["total_cents"] for k, v in latest.items()} == stored


def test_balances_committed_but_not_published_before_a_crash_go_out_on_restart(
        fresh_topics, database_url):
    from sinks.postgres.writer import SinkRecord, write_batch

    # A crash between the PostgreSQL commit and the publish: the batch is written, nothing sent.
    conn = psycopg2.connect(database_url)
    records = [SinkRecord(LEDGER_ENTRIES.name, 0, i, LEDGER_ENTRIES.value_schema, j)
               for i, j in enumerate(journals(ledger(3) + ledger(4)))]
    write_batch(conn, "sink-test", records)
    conn.close()
    assert query(database_url, "SELECT count(*) FROM balance_outbox") == [(2,)]
    run_sink(settings_for(fresh_topics, database_url), idle_exit_s=1)
    consumer = KafkaConsumer(ACCOUNT_BALANCES.name, **kafka_options(fresh_topics),
                             auto_offset_reset="earliest", consumer_timeout_ms=3000)
    published = {msg.key.decode(): codec.decode_for(ACCOUNT_BALANCES, msg.value)["total_cents"]
                 for msg in consumer}
    consumer.close()
    assert published == dict(query(database_url, "SELECT account_id, total_cents FROM account_balances"))
    assert query(database_url, "SELECT count(*) FROM balance_outbox") == [(0,)]


def test_sink_stops_cleanly_on_request(fresh_topics, database_url):
    stop = threading.Event()
    worker = threading.Thread(target=run_sink, args=(settings_for(fresh_topics, database_url), stop))
    worker.start()
    publish(fresh_topics, ledger(3))
    stop.set()
    worker.join(timeout=30)
    assert not worker.is_alive()


def test_rcm_sink_workers_share_the_group_and_apply_each_entry_once(fresh_topics, database_url):
    import subprocess
    import sys

    from infra.pipeline import child_env

    entries = [e for n in range(1, 61) for e in ledger(n)]
    publish(fresh_topics, entries, garbage=3)
    settings = settings_for(fresh_topics, database_url, group="sink-workers-test")
    done = subprocess.run([sys.executable, "-m", "infra.cli", "sink", "--workers", "2",
                           "--idle-exit", "4"], env=child_env(settings), capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr.count("sink stopped:") == 2  # both workers ran and stopped on their own
    [(n, total, accounts)] = query(database_url, "SELECT count(*), sum(insurance_delta_cents"
                                   " + patient_delta_cents), count(DISTINCT account_id)"
                                   " FROM ledger_entries")
    assert (n, total) == (len(entries), sum(e["insurance_delta_cents"] + e["patient_delta_cents"]
                                            for e in entries))
    assert query(database_url, "SELECT sum(total_cents), sum(entries), count(*)"
                               " FROM account_balances") == [(total, len(entries), accounts)]
    assert query(database_url, "SELECT count(*) FROM dead_letters") == [(3,)]
