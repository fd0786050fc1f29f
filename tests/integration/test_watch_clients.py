"""Watchers keep one client per process (issue 12): `infra.pipeline.lag`, polled every 0.5 s by rcm
demo, bench, chaos and the e2e tests, and the console's pipeline page build their Kafka admin
client once (as the ops principal; the console as its own) and read the sink's offsets through one
read-only PostgreSQL connection (as rcm_report), instead of a SASL/SCRAM handshake and a new
PostgreSQL session per poll. A connection that breaks is replaced once."""
from __future__ import annotations

from dataclasses import replace

import psycopg2

from infra import pipeline
from infra.console import broker
from infra.console.ops import broker_status
from schemas import topics as T


def _backend(shared) -> int:
    return shared.call(lambda conn: conn.get_backend_pid())


def test_lag_polls_reuse_one_admin_client_and_one_connection(services, database_url):
    settings = replace(services.settings, database_url=database_url)
    pipeline.close_shared()
    first = pipeline.lag(settings)
    backends = set()
    for _ in range(5):
        again = pipeline.lag(settings)
        assert again.ends == first.ends
        backends.add(_backend(pipeline.database(settings.report_dsn)))
    pipeline.group_state(settings, settings.app_id)
    assert pipeline.watcher(settings).built == 1
    assert pipeline.database(settings.report_dsn).built == 1 and len(backends) == 1
    assert set(first.ends) >= {(T.ENCOUNTERS.name, p) for p in range(T.ENCOUNTERS.partitions)}
    conn = psycopg2.connect(database_url)  # the owner sees one session of rcm_report, not six
    try:
        with conn.cursor() as cur:
            cur.execute("select pid from pg_stat_activity where datname = current_database() "
                        "and usename = 'rcm_report'")
            assert [r[0] for r in cur.fetchall()] == list(backends)
    finally:
        conn.close()


def test_a_killed_watcher_connection_is_replaced_and_the_poll_still_answers(services, database_url):
    settings = replace(services.settings, database_url=database_url)
    owner = psycopg2.connect(database_url)
    owner.autocommit = True
    try:
        with owner.cursor() as cur:
            cur.execute("insert into sink_offsets (consumer_group, topic, partition, next_offset) "
                        "values ('rcm-sink-w', 'claims', 3, 42)")
        pipeline.close_shared()
        shared = pipeline.database(settings.report_dsn)
        assert pipeline.sink_offsets(settings.report_dsn, "rcm-sink-w") == {("claims", 3): 42}
        killed = _backend(shared)
        with owner.cursor() as cur:
            cur.execute("select pg_terminate_backend(%s)", (killed,))
            assert cur.fetchone() == (True,)
        assert pipeline.sink_offsets(settings.report_dsn, "rcm-sink-w") == {("claims", 3): 42}
        assert shared.built == 2 and _backend(shared) != killed
    finally:
        owner.close()
        pipeline.close_shared()


def test_the_console_pipeline_page_reuses_its_client(services):
    pipeline.close_shared()
    for _ in range(3):
        found = broker_status(services.settings)
        assert {t["topic"] for t in found["topics"]} >= {T.ENCOUNTERS.name, T.CLAIMS.name}
    assert broker.admin(services.settings).built == 1
