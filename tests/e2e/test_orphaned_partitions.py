"""A worker left holding no partitions while records wait gets out by itself (issue 15).

The long chaos run left the processor, restarted while the broker came back, assigned nothing
and never asking again. Here the worker's first assignments are made blind to its topics
(tests/e2e/sitecustomize.py), as in that run; the orphan watchdog must see input partitions
with records waiting that no member holds, ask for a rejoin (and, if that does not help, exit 75
for its supervisor to start it again), and every balance must then equal the ground truth."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from infra import pipeline, report
from producers.publish import publish
from producers.synthetic import generate

pytestmark = pytest.mark.e2e
FAULTS = Path(__file__).parent  # its sitecustomize.py injects the fault


def _processor(settings, blind: int, name: str) -> pipeline.Service:
    env = {"RCM_STALL_AFTER_S": "8", "RCM_TEST_BLIND_ASSIGNMENTS": str(blind),
           "PYTHONPATH": os.pathsep.join(p for p in (str(FAULTS), os.environ.get("PYTHONPATH"))
                                         if p)}
    svc = pipeline.rcm_service("process", settings, settings.home / "logs", **env)
    svc.name, svc.log = name, settings.home / "logs" / f"{name}.log"
    return svc.start()


def _wait_orphaned(settings, svc: pipeline.Service, timeout_s: float = 120) -> None:
    """Until the worker is in a Stable group holding nothing (the fault took)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert svc.alive(), svc.tail()
        if "No partition metadata for topic" in svc.log.read_text(errors="replace"):
            return
        time.sleep(1)
    pytest.fail(f"the fault did not take:\n{svc.tail()}")


def test_a_worker_assigned_nothing_asks_for_a_rejoin_and_gets_its_partitions(run_settings):
    settings = run_settings
    scenario = generate(1200, seed=1515)
    publish(list(scenario.records), settings)
    processor = _processor(settings, blind=1, name="process")
    sink = pipeline.rcm_service("sink", settings, settings.home / "logs").start()
    try:
        _wait_orphaned(settings, processor)
        pipeline.wait_drained(settings, [processor, sink], timeout=600)
        log = processor.log.read_text(errors="replace")
        assert "held by no member of the group" in log and "asking for a rejoin" in log, log[-3000:]
        assert processor.alive(), processor.tail()  # the rejoin cured it: no exit needed
    finally:
        processor.stop()
        sink.stop()
    assert report.reconcile(settings.dsn, scenario.truth) == []


def test_a_worker_a_rejoin_does_not_cure_exits_75_and_its_restart_catches_up(run_settings):
    settings = run_settings
    scenario = generate(1200, seed=1516)
    publish(list(scenario.records), settings)
    # every assignment of this process is blind: three rejoins change nothing
    processor = _processor(settings, blind=1000, name="process-blind")
    sink = pipeline.rcm_service("sink", settings, settings.home / "logs").start()
    try:
        _wait_orphaned(settings, processor)
        assert processor.proc.wait(timeout=300) == 75, processor.tail()
        log = processor.log.read_text(errors="replace")
        assert log.count("asking for a rejoin") == 3 and "exiting 75" in log, log[-3000:]
        processor = _processor(settings, blind=0, name="process")  # as its supervisor would
        pipeline.wait_drained(settings, [processor, sink], timeout=600)
    finally:
        processor.stop()
        sink.stop()
    assert report.reconcile(settings.dsn, scenario.truth) == []
