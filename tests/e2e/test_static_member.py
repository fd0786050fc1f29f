"""A worker with an index is a static group member (KIP-345, issue 10): SIGKILLed and started again
it takes its own partitions back without a rebalance (the other worker keeps its partitions and
its state, and nobody waits for the dead member's session to expire); stopped cleanly it is removed
from the group at once, so the other worker takes everything over. Balances stay exact."""
from __future__ import annotations

import re
import time

import pytest

from infra import pipeline, report
from producers.publish import publish
from producers.synthetic import generate

pytestmark = pytest.mark.e2e

PLACED = re.compile(r"\[(\d+)\] \[INFO\] placed (\d+) input partitions; state partitions: "
                    r"(\d+) restored")


def worker(settings, i: int) -> pipeline.Service:
    return pipeline.rcm_service("process", settings, settings.home / "logs" / f"worker-{i}",
                                RCM_PROCESSOR_INSTANCE=str(i)).start()


def placements(w: pipeline.Service, pid: int | None = None) -> list[int]:
    """The input partition counts of each placement (of process `pid` only, when given)."""
    text = w.log.read_text(errors="replace") if w.log.exists() else ""
    return [int(m[2]) for m in PLACED.finditer(text) if pid is None or int(m[1]) == pid]


def wait_until(check, services, what: str, timeout: float = 240):
    deadline = time.monotonic() + timeout
    while not (found := check()):
        for s in services:
            assert s.alive(), f"{s.name} exited:\n{s.tail()}"
        assert time.monotonic() < deadline, f"{what}:\n" + "\n".join(s.tail() for s in services)
        time.sleep(0.2)
    return found


def test_a_static_worker_sigkilled_and_restarted_takes_its_partitions_back_without_a_rebalance(
        run_settings):
    scenario = generate(6000, seed=59)
    records = list(scenario.records)
    third = len(records) // 3
    workers = [worker(run_settings, 0), worker(run_settings, 1)]
    sink = pipeline.rcm_service("sink", run_settings, run_settings.home / "logs").start()
    try:
        publish(records[:third], run_settings)
        wait_until(lambda: pipeline.group_state(run_settings, run_settings.app_id)
                   == ("Stable", 2) and placements(workers[0]) and placements(workers[1]),
                   [*workers, sink], "two members")
        time.sleep(2)
        kept, mine = placements(workers[0]), placements(workers[1])
        assert kept[-1] > 0 and mine[-1] > 0  # they split the partitions (either joined first)
        total = kept[-1] + mine[-1]

        killed = workers[1].proc.pid
        workers[1].kill()  # SIGKILL: no LeaveGroup, its uncommitted input returns
        t0 = time.monotonic()
        workers[1] = worker(run_settings, 1)  # the same index: the same static member
        publish(records[third:2 * third], run_settings)
        again = wait_until(lambda: placements(workers[1], workers[1].proc.pid), [*workers, sink],
                           "the restarted worker placed nothing")
        print(f"\nrestarted static worker processing again {time.monotonic() - t0:.1f} s "
              "after its SIGKILL")
        assert workers[1].proc.pid != killed
        assert again == [mine[-1]]  # its own partitions back
        assert placements(workers[0]) == kept  # the other worker saw no rebalance at all

        assert workers[1].stop() == 0  # stopped for good: removed from the group at once
        members = pipeline.group_state(run_settings, run_settings.app_id)[1]
        assert members == 1  # not after the 60 s session timeout
        publish(records[2 * third:], run_settings)
        wait_until(lambda: placements(workers[0])[-1] == total, [workers[0], sink],
                   "the remaining worker did not take every partition")
        pipeline.wait_drained(run_settings, [workers[0], sink], timeout=600)
    finally:
        for s in (*workers, sink):
            s.stop()
    assert report.reconcile(run_settings.dsn, scenario.truth) == []
    assert report.query(run_settings.dsn, "select count(*) from dead_letters")[0][0] == \
        scenario.truth["counts"]["dead_letters"]


def test_a_static_worker_the_orphan_watchdog_gives_up_on_leaves_so_its_restart_is_assigned_anew(
        run_settings):
    """Every assignment of the first process is blind to its topics (tests/e2e/sitecustomize.py):
    the orphan watchdog exits 75. A static member restarted under the same id would be handed the
    same empty assignment without a rebalance; it left the group first, so it is assigned anew."""
    import os
    from pathlib import Path

    scenario = generate(1200, seed=1517)
    publish(list(scenario.records), run_settings)
    faults = os.pathsep.join(p for p in (str(Path(__file__).parent), os.environ.get("PYTHONPATH"))
                             if p)
    logs = run_settings.home / "logs"
    blind = pipeline.rcm_service("process", run_settings, logs / "blind", RCM_STALL_AFTER_S="8",
                                 RCM_TEST_BLIND_ASSIGNMENTS="1000", PYTHONPATH=faults,
                                 RCM_PROCESSOR_INSTANCE="0").start()
    sink = pipeline.rcm_service("sink", run_settings, logs).start()
    processor = blind
    try:
        assert blind.proc.wait(timeout=300) == 75, blind.tail()
        log = blind.log.read_text(errors="replace")
        assert "exiting 75" in log and "left the group (static member removed)" in log, log[-3000:]
        processor = worker(run_settings, 0)  # as its supervisor would: the same static member
        again = wait_until(lambda: placements(processor), [processor, sink], "assigned nothing")
        assert again[0] > 0
        pipeline.wait_drained(run_settings, [processor, sink], timeout=600)
    finally:
        processor.stop()
        sink.stop()
    assert report.reconcile(run_settings.dsn, scenario.truth) == []
