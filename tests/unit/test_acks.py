"""The worker processes each input partition in offset order without a hole, and commits only the
offset after the last record processed and delivered (processors.acks): never faust's
acknowledgements or gaps, which around a rebalance run ahead of what was processed."""
import asyncio
from collections import defaultdict
from types import SimpleNamespace

from faust.types import TP
from intervaltree import IntervalTree

from processors import acks
from processors.acks import Offsets, new_offset

TP0 = TP("encounters", 0)
TP1 = TP("encounters", 1)


def event(tp, offset):
    return SimpleNamespace(message=SimpleNamespace(tp=tp, offset=offset))


def consumer(committed=None, acked=(), gaps=()):
    return SimpleNamespace(
        _acked=defaultdict(list, {TP0: list(acked)}),
        _acked_index=defaultdict(set, {TP0: set(acked)}),
        _committed_offset=defaultdict(lambda: None, {TP0: committed}),
        _gap=defaultdict(IntervalTree, {TP0: IntervalTree.from_tuples(gaps)}))


def test_records_are_admitted_in_offset_order_and_stop_at_a_jump():
    offsets = Offsets()
    offsets.next.update({TP0: 10, TP1: 5})
    admitted, ahead, jumped = offsets.admit(
        [event(TP0, 9), event(TP0, 10), event(TP1, 5), event(TP0, 11), event(TP0, 14),
         event(TP0, 15), event(TP1, 6)])
    # 9 was processed already; 14 means 12-13 were skipped: 14 and 15 wait for their turn
    assert [(e.message.tp.partition, e.message.offset) for e in admitted] == \
        [(0, 10), (1, 5), (0, 11), (1, 6)]
    assert ahead == {TP0: 12, TP1: 7}
    assert jumped == {TP0: 12}


def test_a_partition_not_placed_yet_is_not_processed():
    admitted, ahead, jumped = Offsets().admit([event(TP0, 0)])
    assert admitted == [] and ahead == {} and jumped == {}


def test_the_offset_advances_only_if_the_partition_was_not_placed_again_meanwhile():
    offsets = Offsets()
    offsets.next[TP0] = 10
    start = dict(offsets.next)
    offsets.next[TP0] = 4  # sought back to the committed offset by a rebalance meanwhile
    offsets.advance(start, {TP0: 12})
    assert offsets.next[TP0] == 4
    offsets.advance({TP0: 4}, {TP0: 6})
    assert offsets.next[TP0] == 6


def test_the_commit_is_the_next_offset_to_process_never_faust_acknowledgements_or_gaps():
    acks.OFFSETS.next[TP0] = 12
    # faust acknowledged up to 40 and thinks 20-30 are absent from the log: neither counts
    c = consumer(committed=10, acked=[10, 11, 12, 13, 40], gaps=[(20, 31)])
    assert new_offset(c, TP0) == 12
    assert c._acked[TP0] == [] and c._acked_index[TP0] == set() and not c._gap[TP0]
    c._committed_offset[TP0] = 12
    assert new_offset(c, TP0) is None  # nothing new
    acks.OFFSETS.forget([TP0])
    assert new_offset(consumer(committed=None, acked=[0, 1]), TP0) is None  # not placed


def test_a_commit_with_nothing_committed_before_is_the_next_offset():
    acks.OFFSETS.next[TP0] = 3
    assert new_offset(consumer(committed=None), TP0) == 3
    acks.OFFSETS.forget([TP0])


class Placed:
    """faust's consumer after it sought to the committed offsets: TP0 has none."""

    def __init__(self):
        self._committed_offset = defaultdict(lambda: None, {TP1: 700})
        self.sought = {}

    def assignment(self):
        return {TP0, TP1, TP("claim-state", 0)}

    def _is_changelog_tp(self, tp):
        return tp.topic == "claim-state"

    async def earliest_offsets(self, *tps):
        return {tp: 0 for tp in tps}

    async def seek_wait(self, partitions):
        self.sought.update(partitions)


def test_an_assignment_places_each_input_partition_at_its_commit_or_the_log_start():
    # measured: with nothing committed, faust went on from the fetcher's position (encounters/3
    # from 1611), so the records before were processed later than the ones after them
    c = Placed()
    acks.OFFSETS.next[TP("payments", 2)] = 99  # no longer assigned
    asyncio.run(acks.place(c))
    assert c.sought == {TP0: 0, TP1: 700}
    assert acks.OFFSETS.next == {TP0: 0, TP1: 700}
    acks.OFFSETS.forget([TP0, TP1])


def test_a_partition_that_jumped_is_sought_back_and_processed_in_order():
    c = Placed()
    asyncio.run(acks.place(c))
    handled = []

    async def handle(events):
        handled.extend(e.message.offset for e in events)

    async def scenario():
        acks.INSTALLED[0] = True
        try:
            c.sought.clear()
            await acks.process(c, [event(TP0, 0), event(TP0, 1), event(TP0, 5)], handle)
            assert c.sought == {TP0: 2}
            await acks.process(c, [event(TP0, 6)], handle)  # still ahead: waits, no new seek yet
            await acks.process(c, [event(TP0, 2), event(TP0, 3), event(TP0, 4), event(TP0, 5)],
                               handle)
        finally:
            acks.INSTALLED[0] = False

    asyncio.run(scenario())
    assert handled == [0, 1, 2, 3, 4, 5]
    assert acks.OFFSETS.next[TP0] == 6
    acks.OFFSETS.forget([TP0, TP1])


def test_a_batch_that_fails_advances_nothing():
    acks.OFFSETS.next[TP0] = 0

    async def handle(events):
        raise RuntimeError("broker gone")

    async def scenario():
        acks.INSTALLED[0] = True
        try:
            await acks.process(Placed(), [event(TP0, 0)], handle)
        finally:
            acks.INSTALLED[0] = False

    try:
        asyncio.run(scenario())
    except RuntimeError:
        pass
    assert acks.OFFSETS.next[TP0] == 0
    acks.OFFSETS.forget([TP0])
