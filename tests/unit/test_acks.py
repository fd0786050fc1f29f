"""The processor commits past an offset only once it was acknowledged (faust 0.15.3 skipped a
single unacknowledged record at the head of the queue)."""
from collections import defaultdict
from types import SimpleNamespace

from faust.types import TP
from intervaltree import IntervalTree

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


def test_nothing_acknowledged_commits_nothing_and_a_first_commit_needs_no_base():
    assert new_offset(consumer([], committed=10), TP0) is None
    assert new_offset(consumer([0, 1, 2], committed=None), TP0) == 3
