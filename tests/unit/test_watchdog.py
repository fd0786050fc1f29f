"""The commit watchdog: a partition is stalled only when records wait and its committed offset
holds still past the limit; it is reported once per stall, with offsets only."""
from types import SimpleNamespace

from faust.types import TP
from intervaltree import IntervalTree

from processors import watchdog

ENC0, ENC1, PENDING = TP("encounters", 0), TP("encounters", 1), TP("coding-pending", 0)


def test_a_partition_that_keeps_committing_or_has_nothing_waiting_is_not_stalled():
    w = watchdog.Watch(stall_after_s=60)
    assert w.observe(ENC0, 10, 50, now=0) is None
    assert w.observe(ENC0, 20, 50, now=100) is None  # moved
    assert w.observe(ENC0, 20, 20, now=500) is None  # caught up
    assert w.observe(ENC0, None, None, now=600) is None  # nothing fetched yet


def test_a_committed_offset_that_holds_still_past_the_limit_is_a_stall():
    w = watchdog.Watch(stall_after_s=60)
    assert w.observe(ENC0, 10, 50, now=0) is None
    assert w.observe(ENC0, 10, 50, now=59) is None
    assert w.observe(ENC0, 10, 80, now=61) == 61
    assert w.observe(ENC0, 11, 80, now=62) is None  # it moved: the clock starts again


class FakeConsumer:
    def __init__(self, committed, ends):
        self._committed_offset = dict(committed)
        self.ends = ends
        self._acked = {ENC0: [14, 15, 16]}
        self._gap = {ENC0: IntervalTree.from_tuples([(20, 22)])}
        self._read_offset = {ENC0: 16}
        self._unacked_messages = [SimpleNamespace(tp=ENC0), SimpleNamespace(tp=ENC1)]

    def assignment(self):
        return set(self.ends)

    def highwater(self, tp):
        return self.ends[tp]


def test_check_warns_once_per_stall_with_offsets_only_and_ignores_changelogs():
    consumer = FakeConsumer({ENC0: 12, ENC1: 30, PENDING: 0}, {ENC0: 40, ENC1: 30, PENDING: 9})
    app = SimpleNamespace(consumer=consumer)
    w = watchdog.Watch(stall_after_s=60)
    healed = []
    heal = healed.append
    assert watchdog.check(app, w, {"encounters"}, now=0, heal=heal) == []
    assert healed == []
    [msg] = watchdog.check(app, w, {"encounters"}, now=70, heal=heal)
    assert healed == [app]  # a stall asks for a rebalance
    assert msg.startswith("encounters/0: committed offset 12 has not moved for 70s with 28 records behind")
    assert "acked but not committed 3 (lowest 14)" in msg and "gaps [(20, 22)]" in msg
    assert "unacked in flight 1" in msg
    assert watchdog.STALLED._value.get() == 1
    assert watchdog.check(app, w, {"encounters"}, now=100, heal=heal) == []  # reported already
    assert healed == [app]  # and at most one rebalance per stall window
    assert watchdog.check(app, w, {"encounters"}, now=131, heal=heal) == []
    assert healed == [app, app]  # still stalled a window later: ask again
    consumer._committed_offset[ENC0] = 40
    assert watchdog.check(app, w, {"encounters"}, now=200, heal=heal) == []
    assert watchdog.STALLED._value.get() == 0 and healed == [app, app]
