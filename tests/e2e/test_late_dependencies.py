"""Services started before the broker and PostgreSQL are there (issue 15): `rcm process`, `rcm
sink` and `rcm sink-x12` wait for them (the sinks with bounded backoff, faust by its own retries)
and, once both are up, process everything exactly: balances equal the ground truth."""
from __future__ import annotations

import time

import pytest

from infra import kafka, pipeline, postgres, report
from producers.publish import publish
from producers.synthetic import generate

pytestmark = pytest.mark.e2e


def test_services_started_before_kafka_and_postgres_wait_for_them(run_settings, services):
    if not (services.manages_kafka and services.manages_postgres):
        pytest.fail("this test stops the broker and PostgreSQL: it needs the session's own")
    settings, local = run_settings, services.settings
    logs = settings.home / "logs"
    env = {"RCM_RECONNECT_INITIAL_S": "0.2", "RCM_RECONNECT_MAX_S": "2",
           "RCM_SINK_X12_METRICS_PORT": "0"}
    scenario = generate(1500, seed=41)
    procs = []
    kafka.stop(local)
    postgres.stop(local)
    try:
        procs = [pipeline.rcm_service("process", settings, logs, **env).start(),
                 pipeline.rcm_service("sink", settings, logs, **env).start(),
                 pipeline.rcm_service("sink-x12", settings, logs, "--out",
                                      str(settings.home / "outbox"), **env).start()]
        time.sleep(15)
        for s in procs:
            assert s.alive(), f"{s.name} exited with no broker and no database:\n{s.tail()}"
        postgres.start(local)
        time.sleep(15)  # longer than a sink's first Kafka attempt (10 s)
        for s in procs:
            assert s.alive(), f"{s.name} exited with no broker:\n{s.tail()}"
    finally:
        kafka.start(local)
        postgres.start(local)
    try:
        publish(list(scenario.records), settings)
        pipeline.wait_drained(settings, procs[:2], timeout=600)
        for s in procs:
            assert s.alive(), f"{s.name} exited:\n{s.tail()}"
    finally:
        for s in procs:
            s.stop()
    assert report.reconcile(settings.dsn, scenario.truth) == []
    sink_log = (logs / "sink.log").read_text()
    assert "postgres unavailable" in sink_log and "kafka unavailable" in sink_log
