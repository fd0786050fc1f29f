"""The orphan watchdog (issue 15): partitions with records waiting that no member of the group
holds make the worker ask for a rejoin, then exit 75 if it holds none; a worker idle because the
group has more workers than partitions is left alone."""
from types import SimpleNamespace

from kafka import TopicPartition

from infra.settings import Settings
from processors import watchdog

NOWHERE = Settings(kafka_bootstrap_servers="127.0.0.1:1")  # the tests hand the watch its clients


def test_orphans_persisting_a_window_ask_for_a_rejoin_then_an_exit_when_holding_nothing():
    o = watchdog.Orphans(after_s=20, exit_after=2)
    assert o.observe(4, held=0, now=0) is None  # first seen: the clock starts
    assert o.observe(4, held=0, now=19) is None
    assert o.observe(4, held=0, now=20) == "rejoin"
    assert o.observe(4, held=0, now=30) is None  # a window after the request
    assert o.observe(4, held=0, now=40) == "rejoin"
    assert o.observe(4, held=0, now=60) == "exit"


def test_a_worker_holding_partitions_keeps_asking_for_rejoins_and_never_exits():
    o = watchdog.Orphans(after_s=10, exit_after=1)
    actions = [o.observe(2, held=3, now=t) for t in range(0, 100, 10)]
    assert "exit" not in actions and actions.count("rejoin") == 9


def test_no_orphans_or_unknown_resets_the_clock_and_only_a_known_clear_group_the_rejoin_count():
    o = watchdog.Orphans(after_s=10, exit_after=1)
    assert o.observe(1, held=0, now=0) is None
    assert o.observe(1, held=0, now=10) == "rejoin"
    assert o.observe(None, held=0, now=15) is None  # broker away: cannot tell
    assert o.observe(1, held=0, now=16) is None  # the clock starts again
    assert o.observe(1, held=0, now=26) == "exit"  # the rejoin before still counts
    o = watchdog.Orphans(after_s=10, exit_after=1)
    o.observe(1, held=0, now=0)
    o.observe(1, held=0, now=10)
    assert o.observe(0, held=0, now=11) is None  # healed: counts start over
    o.observe(1, held=0, now=12)
    assert o.observe(1, held=0, now=22) == "rejoin"


class Admin:
    def __init__(self, state, members, committed):
        self.state, self.members, self.committed = state, members, committed

    def describe_groups(self, groups):
        return {groups[0]: {"group_state": self.state, "members": [
            {"member_assignment": {"assigned_partitions": [
                {"topic": t, "partitions": ps} for t, ps in held.items()]}}
            for held in self.members]}}

    def list_group_offsets(self, specs):
        group = next(iter(specs))
        return {group: {TopicPartition(t, p): SimpleNamespace(offset=o)
                        for (t, p), o in self.committed.items()}}


class Offsets:
    def __init__(self, partitions, ends, starts):
        self.partitions, self.ends, self.starts = partitions, ends, starts

    def partitions_for_topic(self, topic):
        return set(range(self.partitions[topic]))

    def end_offsets(self, tps):
        return {tp: self.ends[(tp.topic, tp.partition)] for tp in tps}

    def beginning_offsets(self, tps):
        return {tp: self.starts.get((tp.topic, tp.partition), 0) for tp in tps}


OFFSETS = Offsets({"encounters": 2, "payments": 2},
                  ends={("encounters", 0): 10, ("encounters", 1): 5, ("payments", 0): 7,
                        ("payments", 1): 3},
                  starts={("payments", 1): 3})


def test_partitions_held_by_nobody_with_records_beyond_the_committed_offset_are_orphaned():
    admin = Admin("Stable", [{}, {"encounters": [1]}], {("encounters", 0): 10, ("payments", 0): 2})
    # encounters/0 is caught up, encounters/1 is held, payments/1 has nothing past its log start
    assert watchdog.orphaned_partitions(admin, OFFSETS, "g", {"encounters", "payments"}) == [
        ("payments", 0)]


def test_an_idle_worker_in_a_group_whose_partitions_are_all_held_sees_no_orphans():
    admin = Admin("Stable", [{}, {"encounters": [0, 1], "payments": [0, 1]}], {})
    assert watchdog.orphaned_partitions(admin, OFFSETS, "g", {"encounters", "payments"}) == []


def test_a_rebalancing_group_cannot_tell_and_a_group_without_members_holds_nothing():
    admin = Admin("PreparingRebalance", [{}], {})
    assert watchdog.orphaned_partitions(admin, OFFSETS, "g", {"encounters"}) is None
    admin = Admin("Empty", [], {("encounters", 1): 5})
    assert watchdog.orphaned_partitions(admin, OFFSETS, "g", {"encounters"}) == [("encounters", 0)]


def test_the_watch_rejoins_then_gives_up_and_reports_offsets_only(caplog):
    calls = []
    w = watchdog.OrphanWatch(NOWHERE, "g", {"encounters", "payments"}, held=lambda: 0,
                             rejoin=lambda: calls.append("rejoin"), after_s=5, exit_after=1,
                             give_up=lambda: calls.append("exit"))
    w.clients = (Admin("Stable", [{}], {}), OFFSETS)
    assert [w.check_once(now=t) for t in (0, 5, 10)] == [None, "rejoin", "exit"]
    assert calls == ["rejoin", "exit"]
    assert "encounters/0" in caplog.text and "exiting 75" in caplog.text


def test_the_watch_cannot_tell_while_the_broker_is_away():
    class Down:
        def describe_groups(self, groups):
            raise OSError("connection refused")

        def close(self):
            pass

    w = watchdog.OrphanWatch(NOWHERE, "g", {"encounters"}, held=lambda: 0,
                             rejoin=lambda: None, after_s=0, give_up=lambda: None)
    w.clients = (Down(), OFFSETS)
    assert w.check_once(now=0) is None and w.clients is None


def test_an_assignment_that_cannot_be_decoded_cannot_tell():
    class Raw(Admin):
        def describe_groups(self, groups):
            return {groups[0]: {"group_state": "Stable",
                                "members": [{"member_assignment": b"\x00\x04junk"}]}}

    assert watchdog.orphaned_partitions(Raw("Stable", [], {}), OFFSETS, "g", {"encounters"}) is None
