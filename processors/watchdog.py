"""Commit watchdog: notice an input partition whose committed offset stops moving while records wait.

The worker can be alive, fetching and still never commit a partition (an agent stuck on an await,
or an offset that was fetched but never acknowledged, which holds every later commit back). faust
logs nothing in the second case, because its own check compares the fetch position, not the
committed offset, with the end of the log. This check looks at what operators care about: records
behind the committed offset, and for how long that offset has not moved.

It reports offsets only (never keys or values) in a warning and in the gauge
`rcm_processor_stalled_partitions`; `RCM_STALL_AFTER_S` sets how long counts as stalled. Then it
heals: it asks the group coordinator for a rebalance (at most once per `RCM_STALL_AFTER_S`). A
rebalance is faust's own reset: every partition is revoked, assigned again and placed at its
committed offset (processors.acks), so the records behind the frozen offset are delivered again.
Since the worker processes each partition in offset order and seeks back itself when records were
skipped (processors.acks), this is a last resort: for a partition whose next records never come.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from prometheus_client import Counter, Gauge

log = logging.getLogger(__name__)

REBALANCES = Counter("rcm_processor_stall_rebalances_total",
                     "Rebalances the commit watchdog asked for to unstick a partition")
STALLED = Gauge("rcm_processor_stalled_partitions",
                "Input partitions whose committed offset has not moved for RCM_STALL_AFTER_S "
                "seconds while records are waiting")


@dataclass
class Watch:
    """Committed offset per partition and since when it has held still (monotonic seconds)."""
    stall_after_s: float
    since: dict = field(default_factory=dict)  # tp -> (committed offset, first seen at)
    reported: set = field(default_factory=set)
    rebalanced_at: float | None = None

    def may_rebalance(self, now: float) -> bool:
        if self.rebalanced_at is not None and now - self.rebalanced_at < self.stall_after_s:
            return False
        self.rebalanced_at = now
        return True

    def observe(self, tp, committed: int | None, end: int | None, now: float) -> float | None:
        """Seconds the partition has been stalled, or None when it is keeping up."""
        if end is None or end <= (committed or 0):
            self.since.pop(tp, None)
            self.reported.discard(tp)
            return None
        held = self.since.get(tp)
        if held is None or held[0] != committed:
            self.since[tp] = (committed, now)
            self.reported.discard(tp)
            return None
        waited = now - held[1]
        return waited if waited >= self.stall_after_s else None


def describe(consumer, tp) -> str:
    """What faust's consumer knows about one partition: offsets and counts only."""
    acked = sorted(consumer._acked.get(tp) or [])
    gaps = consumer._gap.get(tp)
    return (f"read offset {consumer._read_offset.get(tp)}, acked but not committed {len(acked)}"
            f" (lowest {acked[0] if acked else None}), gaps {sorted((i.begin, i.end) for i in gaps) if gaps else []},"
            f" unacked in flight {sum(1 for m in list(consumer._unacked_messages) if m.tp == tp)}")


def rejoin(app) -> None:
    """Ask the group coordinator for a rebalance (faust's consumer runs aiokafka in its own thread
    and event loop; the request is handed to that loop)."""
    thread = app.consumer._thread
    coordinator = thread._ensure_consumer()._coordinator
    thread.thread_loop.call_soon_threadsafe(coordinator.request_rejoin)


def check(app, watch: Watch, topics: set[str], now: float | None = None,
          heal=rejoin) -> list[str]:
    """One pass over the assigned input partitions; returns the warnings it logged. When a
    partition is stalled, `heal(app)` runs (at most once per stall window)."""
    now = time.monotonic() if now is None else now
    consumer = app.consumer
    warnings = []
    stalled = 0
    for tp in sorted(consumer.assignment()):
        if tp.topic not in topics:
            continue
        try:
            end = consumer.highwater(tp)  # None until the partition was fetched
        except AssertionError:  # revoked between the two calls (aiokafka asserts assignment)
            continue
        committed = consumer._committed_offset.get(tp)
        waited = watch.observe(tp, committed, end, now)
        if waited is None:
            continue
        stalled += 1
        if tp not in watch.reported:
            watch.reported.add(tp)
            msg = (f"{tp.topic}/{tp.partition}: committed offset {committed} has not moved for "
                   f"{waited:.0f}s with {end - (committed or 0)} records behind; "
                   f"{describe(consumer, tp)}")
            log.warning("stalled partition %s", msg)
            warnings.append(msg)
    STALLED.set(stalled)
    if stalled and watch.may_rebalance(now):
        log.warning("%d partition(s) stalled: asking for a rebalance, which sends every partition "
                    "back to its committed offset", stalled)
        REBALANCES.inc()
        heal(app)
    return warnings
