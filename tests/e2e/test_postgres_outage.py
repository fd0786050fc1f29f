"""PostgreSQL SIGKILLed under load and started again: every service keeps running (issue 15).

`rcm process`, `rcm sink` and `rcm sink-x12` run as child processes on the session's services
while the synthetic hospital streams in. The database server (the postmaster and every backend) is
SIGKILLed mid-run; while it is down the X12 sink is SIGKILLed too and started again, so it starts
with no database. Then the server restarts (crash recovery). Nobody restarts the sinks: they must
reconnect, roll back what was in flight, resume from the offsets PostgreSQL stored, and give
balances equal to the ground truth, with every 837 claim written exactly once.
"""
from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from infra import pipeline, postgres, report
from producers.publish import publish
from producers.synthetic import generate

pytestmark = pytest.mark.e2e


def kill_postgres(settings) -> None:
    """SIGKILL the postmaster and its backends (one process group), as a crash or OOM kill."""
    pid = postgres.running_pid(settings)
    assert pid is not None, "the session's PostgreSQL is not running"
    os.killpg(os.getpgid(pid), signal.SIGKILL)
    deadline = time.monotonic() + 30
    while _alive(pid):
        assert time.monotonic() < deadline, "the postmaster survived SIGKILL"
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead
        return "State:\tZ" not in open(f"/proc/{pid}/status").read()
    except OSError:
        return False


def count(dsn: str, sql: str) -> int:
    return report.query(dsn, sql)[0][0]


def claims_in_files(outbox) -> int:
    return sum(seg.strip().startswith("CLM*")
               for p in outbox.glob("837*.x12") for seg in p.read_text().split("~"))


def test_a_postgres_crash_under_load_leaves_every_service_running_and_balances_exact(
        run_settings, services):
    if not services.manages_postgres:
        pytest.fail("this test kills PostgreSQL: it needs the one the services fixture starts")
    settings = run_settings
    logs, outbox = settings.home / "logs", settings.home / "outbox"
    env = {"RCM_RECONNECT_INITIAL_S": "0.2", "RCM_RECONNECT_MAX_S": "2",
           "RCM_SINK_X12_METRICS_PORT": "0"}
    scenario = generate(6000, seed=31)
    records = list(scenario.records)
    procs = {
        "process": pipeline.rcm_service("process", settings, logs, **env),
        "sink": pipeline.rcm_service("sink", settings, logs, **env),
        "sink-x12": pipeline.rcm_service("sink-x12", settings, logs, "--out", str(outbox),
                                         "--max-wait", "1", **env),
    }
    for s in procs.values():
        s.start()
    try:
        feeder = threading.Thread(target=publish, args=(records, settings),
                                  kwargs={"rate": 400.0}, daemon=True)
        feeder.start()
        deadline = time.monotonic() + 240
        while count(settings.dsn, "select count(*) from ledger_entries") < 800:
            assert time.monotonic() < deadline, "the pipeline made no progress before the crash"
            time.sleep(0.2)

        kill_postgres(services.settings)
        time.sleep(2)
        procs["sink-x12"].kill()  # started again while the database is down
        procs["sink-x12"].start()
        time.sleep(4)
        for name, s in procs.items():
            assert s.alive(), f"{name} exited while PostgreSQL was down:\n{s.tail()}"
        postgres.start(services.settings)

        feeder.join(timeout=300)
        assert not feeder.is_alive(), "the synthetic hospital could not publish"
        pipeline.wait_drained(settings, [procs["process"], procs["sink"]], timeout=600)
        for name, s in procs.items():
            assert s.alive(), f"{name} exited:\n{s.tail()}"
        sink_log = (logs / "sink.log").read_text()
        assert "postgres unavailable" in sink_log  # the retries are logged ...
        assert scenario.truth["accounts"].keys().isdisjoint(
            line for line in sink_log.split())  # ... with no account ids
        # the X12 sink catches up too: everything it read is in PostgreSQL and in files, once
        deadline = time.monotonic() + 120
        while pipeline.sink_offsets(settings.dsn, settings.sink_group + "-x12") != {
                k: v for k, v in pipeline.end_offsets(settings, (
                    pipeline.T.CLAIMS,)).items() if v}:
            assert time.monotonic() < deadline, f"sink-x12 did not catch up:\n" \
                                                f"{procs['sink-x12'].tail()}"
            time.sleep(0.5)
        time.sleep(2)  # the last file's rename follows its commit
    finally:
        for s in procs.values():
            s.stop()
    dsn = settings.dsn
    assert report.reconcile(dsn, scenario.truth) == []
    counts = scenario.truth["counts"]
    assert count(dsn, "select count(*) from dead_letters") == counts["dead_letters"]
    assert count(dsn, "select count(*) from denials") == counts["denial_adjustments"]
    sent = count(dsn, "select count(*) from x12_claims_sent")
    assert sent > 0
    assert count(dsn, "select coalesce(sum(claim_count), 0) from x12_files") == sent
    assert claims_in_files(outbox) == sent  # no recorded file lost, none written twice
