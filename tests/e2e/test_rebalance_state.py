"""A rebalance keeps the state of the partitions a worker keeps (issue 10): a second worker joins
and leaves while records flow; the first worker restores only the state partitions it newly gets,
keeps the rest in memory, and every balance still equals the ground truth to the cent."""
from __future__ import annotations

import re
import time

import pytest

from infra import pipeline, report
from producers.publish import publish
from producers.synthetic import generate

pytestmark = pytest.mark.e2e

PLACED = re.compile(r"placed (\d+) input partitions; state partitions: (\d+) restored "
                    r"\((\d+) records\), (\d+) kept")


def worker(settings, i: int) -> pipeline.Service:
    return pipeline.rcm_service("process", settings, settings.home / "logs" / f"worker-{i}").start()


def placements(w: pipeline.Service) -> list[tuple[int, int, int]]:
    """(input partitions, state partitions restored, state partitions kept), in order."""
    text = w.log.read_text(errors="replace") if w.log.exists() else ""
    return [(int(m[1]), int(m[2]), int(m[4])) for m in PLACED.finditer(text)]


def wait_placements(w: pipeline.Service, n: int, others, timeout: float = 240) -> list:
    deadline = time.monotonic() + timeout
    while len(found := placements(w)) < n:
        for s in (w, *others):
            assert s.alive(), f"{s.name} exited:\n{s.tail()}"
        assert time.monotonic() < deadline, f"no placement {n}:\n{w.tail()}"
        time.sleep(0.3)
    return found


def ledger_rows(dsn: str) -> int:
    return report.query(dsn, "select count(*) from ledger_entries")[0][0]


def test_a_worker_joining_and_leaving_makes_the_first_restore_only_what_it_newly_gets(
        run_settings):
    scenario = generate(6000, seed=53)
    records = list(scenario.records)
    third = len(records) // 3
    first = worker(run_settings, 0)
    sink = pipeline.rcm_service("sink", run_settings,
                                run_settings.home / "logs").start()
    second = None
    try:
        publish(records[:third], run_settings)
        [(n_all, restored_all, kept)] = wait_placements(first, 1, [sink])
        assert kept == 0 and restored_all > 0  # a worker's first assignment reads everything
        deadline = time.monotonic() + 300
        while ledger_rows(run_settings.dsn) < 300:
            assert first.alive() and sink.alive() and time.monotonic() < deadline, first.tail()
            time.sleep(0.2)

        second = worker(run_settings, 1)  # joins while records flow: it takes some partitions
        publish(records[third:2 * third], run_settings)
        joined = wait_placements(first, 2, [sink, second])[1]
        assert joined[0] < n_all  # it gave some partitions up
        assert joined[1] == 0 and 0 < joined[2] < restored_all  # kept the rest, read nothing
        wait_placements(second, 1, [sink, first])
        time.sleep(3)  # both process for a while

        assert second.stop() == 0  # leaves (SIGTERM) while records flow
        publish(records[2 * third:], run_settings)
        left = wait_placements(first, 3, [sink])[2]
        assert left[0] == n_all  # every partition back
        # only what the second worker held is read again; what the first kept stays in memory
        assert left[2] == joined[2] and left[1] == restored_all - joined[2]
        pipeline.wait_drained(run_settings, [first, sink], timeout=600)
    finally:
        for s in (first, sink, second):
            if s is not None:
                s.stop()
    assert report.reconcile(run_settings.dsn, scenario.truth) == []
    counts = scenario.truth["counts"]
    assert report.query(run_settings.dsn, "select count(*) from dead_letters")[0][0] == \
        counts["dead_letters"]
