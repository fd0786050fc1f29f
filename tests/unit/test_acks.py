"""The processor commits past an offset only once it was acknowledged (faust 0.15.3 skipped a
single unacknowledged record at the head of the queue)."""
import asyncio
from collections import defaultdict
from types import SimpleNamespace

from faust.types import TP
from intervaltree import IntervalTree

from processors import acks
from processors.acks import new_offset

TP0 = TP("remittances", 0)


def consumer(acked, committed, gaps=()):
    return SimpleNamespace(
        _acked=defaultdict(list, {TP0: list(acked)}),
        _acked_index=defaultdict(set, {TP0: set(acked)}),
        _committed_offset=defaultdict(lambda: None, {TP0: committed}),
        _gap=defaultdict(IntervalTree, {TP0: IntervalTree.from_tuples(gaps)}))


def test_a_contiguous_run_from_the_committed_offset_is_committed():
    c = consumer([12, 10, 11, 14], committed=10)
    assert new_offset(c, TP0) == 13
    assert c._acked[TP0] == [14] and c._acked_index[TP0] == {14}


def test_one_missing_record_at_the_head_holds_the_commit():
    c = consumer([11, 12, 13], committed=10)  # offset 10 was never acknowledged
    assert new_offset(c, TP0) is None
    assert c._acked[TP0] == [11, 12, 13]  # nothing forgotten: it commits once 10 is acked
    c._acked[TP0].append(10)
    assert new_offset(c, TP0) == 14


def test_offsets_absent_from_the_log_count_as_acknowledged():
    c = consumer([10, 11, 14, 15], committed=10, gaps=[(12, 14)])
    assert new_offset(c, TP0) == 16


def test_nothing_acknowledged_commits_nothing():
    assert new_offset(consumer([], committed=10), TP0) is None


def test_a_first_commit_waits_for_the_log_start_and_begins_there():
    acks.LOG_START.clear()

    async def earliest_offsets(tp):
        return {tp: 0}

    async def scenario():
        c = consumer([0, 1, 2], committed=None)
        c.earliest_offsets = earliest_offsets
        assert new_offset(c, TP0) is None  # the log start is asked for first
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert acks.LOG_START[TP0] == 0
        assert new_offset(c, TP0) == 3

    asyncio.run(scenario())


def test_a_first_run_that_begins_after_the_log_start_is_not_committed():
    # A worker that began part-way into a partition nothing was committed for (measured with a
    # broker and a worker SIGKILLed): committing would lose the records before it.
    acks.LOG_START[TP0] = 0
    c = consumer([1228, 1229, 1230], committed=None)
    assert new_offset(c, TP0) is None
    assert c._acked[TP0] == [1228, 1229, 1230]
    c._acked[TP0][:0] = list(range(1228))  # read from the beginning again
    assert new_offset(c, TP0) == 1231
    acks.LOG_START.clear()
