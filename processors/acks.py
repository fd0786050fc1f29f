"""Process every input partition in offset order, without a hole, and commit only what was processed.

faust 0.15.3 commits the offsets its streams *acknowledged*. Around a rebalance that is not the same
as processed, nor in order (measured with three workers, one SIGKILLed, issue 10):

- After an assignment faust seeks its stream partitions to their committed offsets through
  aiokafka's `seek_to_committed`, which seeks only partitions whose committed offset is above 0.
  A partition nothing was committed for keeps the position the fetcher already had; records fetched
  while the flow was stopped or the generation changed are dropped by faust
  (`Consumer.getmany` breaks out of the fetched batch), so the stream went on part-way into the
  log: measured, `encounters/3` read from offset 1611 with nothing committed.
- A fetch returned records from before the seek: faust's drain loop then sees a jump in offsets
  and records the skipped ones as a *gap*, which it counts as acknowledged (as if compacted away):
  measured, `remittances-unmatched/3` jumped from 444 to 562, offsets 445-561 marked absent.
- Records skipped while the flow is suspended are acknowledged unprocessed
  (`Stream._py_aiter` acks `skipped_value`).

The earlier workarounds held such commits and let the commit watchdog rebalance, so the records
were delivered again, but only after later records of the same partition had been processed:
an encounter's correction was posted before the encounter it corrects, a claim's version 2 before
its version 1, and balances came out wrong (the intermittent loss of the three-worker SIGKILL
test).

So the worker keeps its own account, per input partition, of the next offset to process
(`Offsets`), set at every assignment to the committed offset or, with nothing committed, to the
log start, and it seeks there explicitly. A batch is admitted only record by record in that order:
a record below it was processed already and is passed over, a record beyond it means records were
skipped, so the worker seeks back and the record comes again in its turn. The offset advances only
once the batch's output was acknowledged by the broker (processors.stage.ProducerEmitter), and the
commit is that offset: never past a record that was not processed and delivered (DESIGN 4), never
built from faust's acknowledgements or gaps. Input topics are never compacted, so every offset
holds a record.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence

log = logging.getLogger("rcm.acks")

RESEEK_AFTER_S = 1.0  # a partition that keeps jumping is sought back at most this often


class Offsets:
    """Next offset to process per assigned input partition (faust TP -> int).

    A partition without an entry is not ready (assigned but not yet sought, or revoked): its
    records are not processed and nothing is committed for it."""

    def __init__(self) -> None:
        self.next: dict = {}
        self.sought_at: dict = {}  # tp -> monotonic time of the last seek back
        self.seen: dict = {}  # tp -> the offset that arrived instead of the next one (for the log)

    def admit(self, events: Sequence) -> tuple[list, dict, dict]:
        """The events to process now, in order: those at the next offset of their partition and
        the ones following it without a hole. Returns (admitted, tp -> next offset after them,
        tp -> offset to seek back to, for partitions that jumped)."""
        admitted, ahead, jumped = [], {}, {}
        for event in events:
            message = event.message
            tp, offset = message.tp, message.offset
            expected = ahead.get(tp, self.next.get(tp))
            if expected is None or tp in jumped or offset < expected:
                continue  # not ready, already skipping, or processed already
            if offset > expected:
                jumped[tp] = expected
                self.seen[tp] = offset
                continue
            admitted.append(event)
            ahead[tp] = offset + 1
        return admitted, ahead, jumped

    def advance(self, start: dict, ahead: dict) -> None:
        """Record that the admitted records were processed and their output delivered. `start`
        is the next offset each partition had when the batch was admitted: a partition that was
        revoked or sought again in between keeps its new position."""
        for tp, nxt in ahead.items():
            if self.next.get(tp) == start.get(tp):
                self.next[tp] = nxt

    def due_seeks(self, jumped: dict, now: float) -> dict:
        due = {}
        for tp, offset in jumped.items():
            if now - self.sought_at.get(tp, float("-inf")) >= RESEEK_AFTER_S:
                self.sought_at[tp] = now
                due[tp] = offset
        return due

    def forget(self, tps) -> None:
        for tp in tps:
            self.next.pop(tp, None)
            self.sought_at.pop(tp, None)
            self.seen.pop(tp, None)


OFFSETS = Offsets()
INSTALLED = [False]  # set by install() in a worker; faust's in-memory test context has no group


async def process(consumer, events: Sequence, handle) -> None:
    """Run `handle(admitted_events)` on the events admitted in offset order, advance the
    partitions it processed once it returned (its output delivered), and seek back partitions
    that jumped. Without a consumer group (faust's in-memory test context) every event is handled."""
    if not INSTALLED[0]:
        await handle(list(events))
        return
    start = dict(OFFSETS.next)
    admitted, ahead, jumped = OFFSETS.admit(events)
    if admitted:
        await handle(admitted)
        OFFSETS.advance(start, ahead)
    if jumped:
        due = OFFSETS.due_seeks(jumped, time.monotonic())
        if due:
            for tp, offset in due.items():
                log.warning("input %s/%s: offset %s arrived where %s was next (records "
                            "skipped); seeking back to %s", tp.topic, tp.partition,
                            OFFSETS.seen.get(tp), offset, offset)
            try:
                await consumer.seek_wait(due)
            except Exception as exc:  # noqa: BLE001 - revoked meanwhile: the next one places it
                log.warning("seeking back failed (%s); the next jump or assignment retries",
                            type(exc).__name__)
                for tp in due:
                    OFFSETS.sought_at.pop(tp, None)


def new_offset(consumer, tp) -> int | None:
    """faust's `Consumer._new_offset`: the offset to commit for `tp`, or None. It is the next
    offset to process when that is beyond the committed one; faust's acknowledgements and gaps are
    dropped (they only grow)."""
    consumer._acked[tp].clear()
    consumer._acked_index[tp].clear()
    gaps = consumer._gap.get(tp)
    if gaps:
        gaps.clear()
    nxt = OFFSETS.next.get(tp)
    if nxt is None:
        return None
    committed = consumer._committed_offset[tp]
    return nxt if committed is None or nxt > committed else None


async def place(consumer) -> None:
    """After faust sought its stream partitions to their committed offsets: set each assigned
    input partition's next offset to its committed offset, or its log start when nothing was
    committed, and seek it there (aiokafka left those without a commit where they were, and a
    seek drops records fetched from before)."""
    tps = {tp for tp in consumer.assignment() if not consumer._is_changelog_tp(tp)}
    if not tps:
        return
    committed = {tp: consumer._committed_offset.get(tp) for tp in tps}
    fresh = [tp for tp, off in committed.items() if off is None]
    starts = await consumer.earliest_offsets(*fresh) if fresh else {}
    placed = {}
    for tp in tps:
        off = committed[tp] if committed[tp] is not None else starts.get(tp)
        if off is None:
            OFFSETS.forget([tp])
            log.warning("input %s/%s: log start unknown; not processed until the next "
                        "assignment", tp.topic, tp.partition)
            continue
        placed[tp] = off
    OFFSETS.forget(set(OFFSETS.next))
    await consumer.seek_wait(placed)
    OFFSETS.next.update(placed)


def install() -> None:
    from faust.transport.consumer import Consumer

    perform_seek = Consumer.perform_seek
    on_partitions_revoked = Consumer.on_partitions_revoked

    async def perform_seek_and_place(self) -> None:
        await perform_seek(self)
        try:
            await place(self)
        except Exception as exc:  # noqa: BLE001 - nothing is processed; the watchdog rebalances
            log.warning("placing the input partitions failed (%s): none is processed until the "
                        "next assignment", type(exc).__name__)

    async def revoked_then_forgotten(self, revoked) -> None:
        # faust commits what was processed while it waits for the streams, then we forget
        await on_partitions_revoked(self, revoked)
        OFFSETS.forget(revoked)

    INSTALLED[0] = True
    Consumer._new_offset = new_offset
    Consumer.perform_seek = perform_seek_and_place
    Consumer.on_partitions_revoked = revoked_then_forgotten
