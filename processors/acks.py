"""Commit only offsets that were acknowledged, every one of them.

faust-streaming 0.15.3 (`Consumer._new_offset`) commits the first run of consecutive acknowledged
offsets, and holds back only when the lowest acknowledged offset is *more than one* past the
committed one. The committed offset is the next one to read, so exactly one unacknowledged record
at the head (a record dropped while the flow was suspended or a queue was cleared around a
rebalance or restore) is committed past and lost: its output never appears, and nothing logs it.
Measured in the SIGKILL exactness test as charges or remittance postings missing from
`ledger-entries` with the processor's offsets already beyond their input.

Here any hole at the head holds the commit. The partition then stops committing, the commit
watchdog (processors.watchdog) sees it, and its rebalance sends the partition back to the
committed offset, so the record is delivered again: at-least-once instead of a silent loss.
Offsets faust knows are absent from the log (its `_gap` intervals: compaction, transaction
markers) still count as acknowledged, as before.

A partition with nothing committed yet has the start of its log as its base: faust committed the
first acknowledged run wherever it began. Measured with three workers on three brokers, one
broker and one worker SIGKILLed: a worker that began reading a never-committed partition part-way
committed it, and the records before were never processed (charges and remittances missing,
nothing logged). The log start is asked once per partition (the commit waits a commit interval
for it); a run that begins after it holds the commit, and the watchdog's rebalance sends the
partition back to its beginning.
"""
from __future__ import annotations

import asyncio
import logging

log = logging.getLogger("rcm.acks")

# Earliest offset of each partition that had nothing committed when its first commit came.
LOG_START: dict = {}
_ASKED: set = set()


def log_start(consumer, tp) -> int | None:
    """The partition's earliest offset, or None while it is being asked for."""
    start = LOG_START.get(tp)
    if start is None and tp not in _ASKED:
        _ASKED.add(tp)

        async def ask() -> None:
            try:
                offsets = await consumer.earliest_offsets(tp)
                if offsets.get(tp) is not None:
                    LOG_START[tp] = offsets[tp]
            except Exception:  # noqa: BLE001 - asked again on the next commit
                log.warning("earliest offset of %s/%s not known yet", tp.topic, tp.partition)
            finally:
                _ASKED.discard(tp)

        try:
            asyncio.get_running_loop().create_task(ask())
        except RuntimeError:  # no loop: nothing can be asked, nothing is committed
            _ASKED.discard(tp)
    return start


def new_offset(consumer, tp) -> int | None:
    """The offset to commit for `tp` (one past the last of a contiguous acknowledged run starting
    at the committed offset), or None to commit nothing now."""
    acked = consumer._acked[tp]
    if not acked:
        return None
    gaps = consumer._gap[tp]
    if gaps:
        top = max(acked)
        absent = [o for i in sorted(gaps.overlap(0, top), key=lambda i: i.begin)
                  for o in range(i.begin, i.end)]
        if absent:
            acked.extend(absent)
            gaps.chop(0, max(absent[-1], top + 1))
    acked.sort()
    committed = consumer._committed_offset[tp]
    if committed is None:  # a first commit: its run must begin where the log begins
        committed = log_start(consumer, tp)
        if committed is None:
            return None
    if acked[0] > committed:
        return None  # `committed` itself was never acknowledged: hold the commit there
    run = 1
    while run < len(acked) and acked[run] <= acked[run - 1] + 1:
        run += 1
    done = acked[:run]
    del acked[:run]
    consumer._acked_index[tp].difference_update(done)
    return done[-1] + 1


def install() -> None:
    from faust.transport.consumer import Consumer

    Consumer._new_offset = new_offset
