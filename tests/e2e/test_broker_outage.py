"""Confirmed delivery across a broker outage longer than the delivery timeout (issue 16).

The session's broker is stopped, the producers run (or have run) against it, and it is started
again. Nothing may be forgotten: the sink's outbox keeps what the broker did not take, and
`rcm produce` either delivers every record or exits non-zero naming what is missing.
"""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime

import psycopg2
import pytest
from kafka import KafkaConsumer, TopicPartition

from infra import kafka
from processors.ledger.rules import entries_for_payment, journals
from producers.hl7.cli import read as read_hl7
from producers.publish import record_name
from producers.synthetic import generate
from schemas import codec
from schemas import topics as T
from sinks.postgres import writer
from sinks.postgres.service import balance_deliverer, publish_balances, run_sink
from sinks.postgres.writer import SinkRecord
from tests import factories as f
from tests.integration.test_sink_service import ledger, publish, settings_for
from tests.support import hl7_compose as compose
from tests.support.kafka_client import kafka_options

pytestmark = pytest.mark.e2e
DELIVERY_TIMEOUT_S = 2.0
COMMAND_BOUND_S = 420  # a produce command still running after this fails the test


@pytest.fixture
def broker(services):
    """Stops and starts the session's broker; it is running again when the test ends."""
    if not services.manages_kafka:
        pytest.fail("these tests stop the broker: they need the one the services fixture starts")

    class Broker:
        @staticmethod
        def stop() -> None:
            kafka.stop(services.settings)

        @staticmethod
        def start() -> None:
            kafka.start(services.settings)

    yield Broker
    kafka.start(services.settings)


def read_topics(bootstrap: str, topics) -> dict[str, list[tuple[bytes, bytes]]]:
    """Every record on `topics`, in partition order: {topic: [(key, value), ...]}."""
    consumer = KafkaConsumer(**kafka_options(bootstrap), enable_auto_commit=False)
    try:
        tps = [TopicPartition(t.name, p) for t in topics for p in range(t.partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        end = consumer.end_offsets(tps)
        out: dict[str, list] = {t.name: [] for t in topics}
        deadline = time.monotonic() + 120
        while any(consumer.position(tp) < end[tp] for tp in tps):
            assert time.monotonic() < deadline, "could not read the topics back"
            for tp, batch in consumer.poll(timeout_ms=500).items():
                out[tp.topic] += [(m.key, m.value) for m in batch]
        return out
    finally:
        consumer.close()


def pg_balances(dsn: str) -> dict[str, tuple[int, int, int]]:
    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT account_id, insurance_cents, patient_cents, total_cents"
                    " FROM account_balances")
        rows = {a: (i, p, t) for a, i, p, t in cur.fetchall()}
    conn.close()
    return rows


def outbox_size(dsn: str) -> int:
    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM balance_outbox")
        n = cur.fetchone()[0]
    conn.close()
    return n


def sink_records(entries: list[dict], offset: int) -> list[SinkRecord]:
    """Journals as the sink decodes them off ledger-entries (offsets of a group of the test's)."""
    topic = T.LEDGER_ENTRIES
    return [SinkRecord(topic.name, 0, offset + i, topic.value_schema,
                       codec.decode_for(topic, codec.encode(topic.value_schema, j)))
            for i, j in enumerate(journals(entries))]


def test_balances_the_broker_did_not_take_stay_in_the_outbox_until_it_does(
        fresh_topics, database_url, broker):
    settings = dataclasses.replace(settings_for(fresh_topics, database_url),
                                   delivery_timeout_s=DELIVERY_TIMEOUT_S, kpi_interval_s=0)
    publish(fresh_topics, [e for n in range(1, 21) for e in ledger(n)])
    run_sink(settings, idle_exit_s=3)  # 20 accounts, their balances on the topic
    assert outbox_size(database_url) == 0

    broker.stop()
    # The sink commits a batch while the broker is away: 20 new accounts, and payments that
    # change ten balances already on the topic (its last value there is now stale).
    later = [e for n in range(21, 41) for e in ledger(n)]
    later += [e for n in range(1, 11)
              for e in entries_for_payment(f.payment(100 + n, cents=700, account_id=_account(n)))]
    conn = psycopg2.connect(database_url)
    try:
        result = writer.write_batch(conn, "outage-test", sink_records(later, 0))
        deliverer = balance_deliverer(settings)
        try:
            unpublished = publish_balances(conn, deliverer, result.balances)
        finally:
            deliverer.close()
    finally:
        conn.close()
    assert unpublished == len(result.balances) == 30
    assert outbox_size(database_url) == 30  # nothing forgotten before the broker has it

    broker.start()
    run_sink(settings, idle_exit_s=3)  # drains the outbox on start
    assert outbox_size(database_url) == 0
    last: dict[str, tuple[int, int, int]] = {}
    for _key, value in read_topics(fresh_topics, [T.ACCOUNT_BALANCES])[T.ACCOUNT_BALANCES.name]:
        b = codec.decode_for(T.ACCOUNT_BALANCES, value)
        last[b["account_id"]] = (b["insurance_cents"], b["patient_cents"], b["total_cents"])
    expected = pg_balances(database_url)
    assert len(expected) == 40
    assert last == expected


def _account(n: int) -> str:
    return f.encounter(n)["account_id"]


def run_outage(argv: list[str], broker, tmp_path, outage_s: float) -> subprocess.CompletedProcess:
    """Run `rcm <argv>` with the broker stopped for `outage_s`, then started; bounded in time."""
    env = {**os.environ, "RCM_DELIVERY_TIMEOUT_S": str(DELIVERY_TIMEOUT_S),
           "RCM_DELIVERY_ATTEMPTS": "40", "RCM_LOG_LEVEL": "WARNING"}
    broker.stop()
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with open(out, "wb") as so, open(err, "wb") as se:
        proc = subprocess.Popen([sys.executable, "-m", "infra.cli", *argv], env=env,
                                stdout=so, stderr=se)
        try:
            time.sleep(outage_s)  # the outage itself; nothing below is measured
            broker.start()
            rc = proc.wait(timeout=COMMAND_BOUND_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail(f"rcm {' '.join(argv)} ran past {COMMAND_BOUND_S}s: "
                        f"{err.read_text()[-2000:]}")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return subprocess.CompletedProcess(argv, rc, out.read_text(), err.read_text())


def assert_delivered_or_named(done, expected: set[str], on_topics: set[str]) -> None:
    named = {line.split("undelivered: ", 1)[1].strip()
             for line in done.stderr.splitlines() if "undelivered: " in line}
    if done.returncode == 0:
        assert expected <= on_topics, f"exit 0 with {len(expected - on_topics)} records missing"
        assert not named
    else:
        assert done.returncode == 3, done.stderr[-2000:]
        assert expected - on_topics <= named, "a missing record was not named"
        assert named <= expected


def names_on(bootstrap: str, topics) -> set[str]:
    found = set()
    for topic in topics:
        for _key, value in read_topics(bootstrap, [topic])[topic.name]:
            try:
                found.add(str(codec.decode_for(topic, value)["event_id"]))
            except codec.DecodeError:
                continue
    return found


def test_rcm_produce_synthetic_delivers_everything_or_names_what_is_missing(
        services, fresh_topics, broker, tmp_path):
    events, seed, start = 3000, 11, date(2026, 1, 5)
    done = run_outage(["produce", "synthetic", "--events", str(events), "--seed", str(seed),
                       "--start", start.isoformat(), "--bad-share", "0"],
                      broker, tmp_path, outage_s=3 * DELIVERY_TIMEOUT_S)
    scenario = generate(events, seed, start=start, bad_share=0)
    expected = {record_name(r, i) for i, r in enumerate(scenario.records)}
    assert len(expected) == events
    topics = {r.topic for r in scenario.records}
    assert_delivered_or_named(done, expected, names_on(fresh_topics, topics))
    if done.returncode == 0:
        assert f"published {events:,}/{events:,}" in done.stderr


def test_rcm_produce_hl7_delivers_everything_or_names_what_is_missing(
        services, fresh_topics, broker, tmp_path):
    at, dos = datetime(2025, 11, 3, 9, 0, tzinfo=UTC), date(2025, 11, 3)
    messages = []
    for n in range(1, 31):
        visit = {"encounter_id": f"V{n}", "account_id": _account(n), "patient_age": 40,
                 "patient_sex": "F", "payer_id": "COMM-ACME", "plan_type": "COMMERCIAL",
                 "provider_npi": "1234567893", "facility_id": "FAC01",
                 "encounter_class": "OFFICE", "service_start": dos, "service_end": dos,
                 "procedures_pcs": [], "discharge_status": None,
                 "diagnoses": [{"sequence": 1, "text": "cough", "code": None}],
                 "charges": [{"line": 1, "charge_code": "CM100113", "units": 1,
                              "unit_price_cents": 14500, "service_date": dos}]}
        messages += [compose.adt(visit, "REGISTER", f"O{n}A", at), compose.dft(visit, f"O{n}B", at)]
    path = tmp_path / "visits.hl7"
    path.write_text("\n".join(m.replace("\r", "\n") for m in messages))
    done = run_outage(["produce", "hl7", str(path)], broker, tmp_path,
                      outage_s=3 * DELIVERY_TIMEOUT_S)
    read = read_hl7([str(path)], datetime.now(UTC))
    assert (len(read.events), read.dead, read.errors) == (60, [], [])
    expected = {e["event_id"] for e in read.events}
    on_topics = names_on(fresh_topics, [T.VISIT_EVENTS])
    assert_delivered_or_named(done, expected, on_topics)
    if done.returncode == 0:
        assert on_topics == expected
