"""The appeal lifecycle and the event-time deadline timers (processors.denials.appeals)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from processors.denials.appeals import Clocks, on_appeal, on_denial, validate_appeal
from processors.state import DENIALS_OPEN
from schemas import topics as T
from tests import factories as F
from tests.support.stores import DictStore

P = 2  # the partition under test; the rules take it from the agent
WARN = 14
DEADLINE = datetime(2026, 5, 1, tzinfo=UTC)  # F.denial(): last day to appeal


class Desk:
    """One partition of the stage: the store, the clocks, and everything emitted."""

    def __init__(self):
        self.store, self.clocks, self.out, self.rejected = DictStore(DENIALS_OPEN), Clocks(), [], []

    def denial(self, den):
        self._take(on_denial(den, self.store, self.clocks, P, WARN))
        return self

    def appeal(self, ev):
        assert validate_appeal(ev) == []
        self._take(on_appeal(ev, self.store, self.clocks, P, WARN))
        return self

    def tick(self, at):
        return self.appeal(F.tick(P, at))

    def _take(self, outcome):
        self.out += outcome.records
        self.rejected += [reason for _ev, reason in outcome.rejected]

    def on(self, topic):
        return [rec for t, rec in self.out if t is topic]

    def status(self, den):
        return self.store.get(den["denial_id"])["status"]


def test_filed_then_overturned_changes_status_but_no_balance():
    den = F.denial()
    desk = Desk().denial(den).appeal(F.appeal("FILED", den)).appeal(
        F.appeal("OVERTURNED", den, at=F.T0 + timedelta(days=20)))
    steps = desk.on(T.DENIAL_LIFECYCLE)
    assert [(s["action"], s["status"], s["version"]) for s in steps] == [
        ("FILED", "APPEALED", 1), ("OVERTURNED", "OVERTURNED", 2)]
    assert desk.on(T.LEDGER_ENTRIES) == []
    assert desk.status(den) == "OVERTURNED"


def test_write_off_of_the_whole_denial_posts_one_entry_out_of_open_insurance():
    den = F.denial(cents=14500)
    desk = Desk().denial(den).appeal(F.appeal("WRITTEN_OFF", den))
    [journal] = desk.on(T.LEDGER_ENTRIES)
    [entry] = journal["entries"]
    assert (entry["kind"], entry["insurance_delta_cents"], entry["patient_delta_cents"]) == (
        "DENIAL_WRITE_OFF", -14500, 0)
    assert entry["reason"] == "CO-50" and journal["account_id"] == den["account_id"]
    assert desk.status(den) == "WRITTEN_OFF"
    assert desk.on(T.DENIAL_LIFECYCLE)[0]["open_cents"] == 0


def test_partial_write_offs_keep_the_denial_open_until_nothing_is_left():
    den = F.denial(cents=10000)
    desk = Desk().denial(den).appeal(F.appeal("WRITTEN_OFF", den, n=1, cents=4000))
    assert desk.status(den) == "OPEN"
    desk.appeal(F.appeal("WRITTEN_OFF", den, n=2, cents=7000))
    assert desk.rejected == ["write-off of 7000 cents, but 6000 are open"]
    desk.appeal(F.appeal("WRITTEN_OFF", den, n=3))
    amounts = [j["entries"][0]["insurance_delta_cents"] for j in desk.on(T.LEDGER_ENTRIES)]
    assert amounts == [-4000, -6000] and desk.status(den) == "WRITTEN_OFF"


def test_upheld_appeal_can_then_be_written_off():
    den = F.denial()
    desk = (Desk().denial(den).appeal(F.appeal("FILED", den))
            .appeal(F.appeal("UPHELD", den)).appeal(F.appeal("WRITTEN_OFF", den)))
    assert desk.rejected == [] and desk.status(den) == "WRITTEN_OFF"
    assert [s["status"] for s in desk.on(T.DENIAL_LIFECYCLE)] == ["APPEALED", "UPHELD",
                                                                  "WRITTEN_OFF"]


@pytest.mark.parametrize("steps, reason", [
    (["OVERTURNED"], "OVERTURNED needs a filed appeal; the denial is OPEN"),
    (["UPHELD"], "UPHELD needs a filed appeal; the denial is OPEN"),
    (["FILED", "FILED2"], "an appeal can only be filed on an open denial; it is APPEALED"),
    (["FILED", "WRITTEN_OFF"], ("only an open, expired or upheld denial can be written off; "
                                "it is APPEALED")),
    (["WRITTEN_OFF", "FILED"], "an appeal can only be filed on an open denial; it is WRITTEN_OFF"),
])
def test_lifecycle_steps_out_of_turn_are_refused_with_the_reason(steps, reason):
    den = F.denial()
    desk = Desk().denial(den)
    for i, action in enumerate(steps):
        desk.appeal(F.appeal(action.rstrip("2"), den, n=i))
    assert desk.rejected == [reason]


def test_filing_after_the_deadline_is_refused():
    den = F.denial()
    desk = Desk().denial(den).appeal(F.appeal("FILED", den, at=DEADLINE + timedelta(days=1)))
    assert desk.rejected == ["filed on 2026-05-02, after the appeal deadline 2026-05-01"]


def test_malformed_events_are_refused_before_any_denial_is_looked_up():
    den = F.denial()
    assert validate_appeal({**F.appeal("WRITTEN_OFF", den), "amount_cents": 0}) == [
        "write-off amount 0 is not positive"]
    assert validate_appeal({**F.appeal("FILED", den), "amount_cents": 5}) == [
        "FILED carries an amount (only WRITTEN_OFF does)"]
    assert validate_appeal({**F.appeal("FILED", den), "denial_id": None}) == [
        "FILED names no denial"]
    assert validate_appeal({**F.appeal("FILED", den), "account_id": ""}) == [
        "account id is empty"]
    assert validate_appeal(F.tick(9, F.T0)) == ["a TICK needs a partition in 0..3"]


def test_an_event_for_another_claim_is_refused():
    den = F.denial()
    desk = Desk().denial(den).appeal({**F.appeal("FILED", den), "claim_id": "CLM-OTHER"})
    assert desk.rejected == ["the event's account or claim is not the denial's"]


def test_a_redelivered_event_re_emits_the_same_records_and_changes_nothing():
    den = F.denial(cents=9000)
    ev = F.appeal("WRITTEN_OFF", den, cents=3000)
    desk = Desk().denial(den).appeal(ev)
    first = list(desk.out)
    desk.appeal(ev)
    assert desk.out[len(first):] == first  # same ids: the sinks keep them once
    assert desk.store.get(den["denial_id"])["open_cents"] == 6000
    desk.denial(den)  # a redelivered denial does not reopen it, and re-emits what it released
    assert desk.store.get(den["denial_id"])["open_cents"] == 6000
    assert desk.out[2 * len(first):] == first


def test_appeal_events_before_their_denial_wait_and_apply_in_event_time_order():
    den = F.denial()
    desk = Desk()
    desk.appeal(F.appeal("OVERTURNED", den, at=F.T0 + timedelta(days=30)))
    desk.appeal(F.appeal("FILED", den, at=F.T0 + timedelta(days=3)))
    desk.appeal(F.appeal("FILED", den, at=F.T0 + timedelta(days=3)))  # redelivered while held
    assert desk.status(den) == "WAITING" and desk.out == []
    assert on_denial(den, DictStore(DENIALS_OPEN), Clocks(), P, WARN).held == 0
    released = on_denial(den, desk.store, desk.clocks, P, WARN)
    assert released.held == -2
    desk._take(released)
    assert [s["action"] for s in desk.on(T.DENIAL_LIFECYCLE)] == ["FILED", "OVERTURNED"]
    assert desk.rejected == [] and desk.status(den) == "OVERTURNED"


def test_a_held_event_that_breaks_the_rules_is_refused_when_its_denial_arrives():
    den = F.denial()
    desk = Desk().appeal(F.appeal("UPHELD", den))
    assert desk.rejected == []
    desk.denial(den)
    assert desk.rejected == ["UPHELD needs a filed appeal; the denial is OPEN"]


def test_the_clock_warns_once_then_expires_once_on_event_time():
    den = F.denial()
    desk = Desk().denial(den)
    desk.tick(DEADLINE - timedelta(days=WARN, seconds=1))
    assert desk.out == []
    desk.tick(DEADLINE - timedelta(days=WARN))
    desk.tick(DEADLINE - timedelta(days=WARN - 1))
    [warning] = desk.on(T.DEADLINE_APPROACHING)
    assert warning["event_id"] == f"{den['denial_id']}:APPROACHING"
    assert warning["open_cents"] == den["amount_cents"]
    desk.tick(DEADLINE + timedelta(hours=23))  # the last day to appeal is not over yet
    assert desk.on(T.DENIAL_EXPIRED) == []
    desk.tick(DEADLINE + timedelta(days=1))
    desk.tick(DEADLINE + timedelta(days=9))
    [expired] = desk.on(T.DENIAL_EXPIRED)
    assert expired["kind"] == "EXPIRED" and desk.status(den) == "EXPIRED"
    assert len(desk.on(T.DEADLINE_APPROACHING)) == 1
    assert desk.on(T.DENIAL_LIFECYCLE)[-1]["status"] == "EXPIRED"


def test_the_clock_never_goes_back_for_a_late_event():
    den = F.denial()
    desk = Desk().denial(den).tick(DEADLINE + timedelta(days=2))
    assert len(desk.on(T.DENIAL_EXPIRED)) == 1
    desk.tick(F.T0)  # older event time: nothing moves back, nothing fires again
    assert len(desk.on(T.DENIAL_EXPIRED)) == 1 and desk.status(den) == "EXPIRED"


def test_filing_cancels_both_timers():
    den = F.denial()
    desk = Desk().denial(den).appeal(F.appeal("FILED", den))
    desk.tick(DEADLINE + timedelta(days=30))
    assert desk.on(T.DEADLINE_APPROACHING) == [] and desk.on(T.DENIAL_EXPIRED) == []
    assert desk.status(den) == "APPEALED"


def test_an_expired_denial_can_be_written_off_and_a_late_arriving_timely_filing_still_counts():
    den, other = F.denial(1), F.denial(2)
    desk = Desk().denial(den).denial(other).tick(DEADLINE + timedelta(days=3))
    assert len(desk.on(T.DENIAL_EXPIRED)) == 2
    desk.appeal(F.appeal("WRITTEN_OFF", den, at=DEADLINE + timedelta(days=4)))
    desk.appeal(F.appeal("FILED", other, at=DEADLINE - timedelta(days=1)))  # sent in time, read late
    assert desk.rejected == []
    assert (desk.status(den), desk.status(other)) == ("WRITTEN_OFF", "APPEALED")


def test_a_denial_that_arrives_after_its_deadline_expires_at_once_without_a_warning():
    den = F.denial()
    desk = Desk().tick(DEADLINE + timedelta(days=5)).denial(den)
    assert len(desk.on(T.DENIAL_EXPIRED)) == 1 and desk.on(T.DEADLINE_APPROACHING) == []


def test_after_a_restart_the_rebuilt_timers_fire_only_what_the_flags_allow():
    den = F.denial()
    desk = Desk().denial(den).tick(DEADLINE - timedelta(days=3))
    assert len(desk.on(T.DEADLINE_APPROACHING)) == 1
    restarted = Clocks()  # a new process: the table survived, the in-memory index did not
    entries = [desk.store.get(k) for k in desk.store.data]
    restarted.rebuild(entries, lambda account: P, WARN)
    desk.clocks = restarted
    desk.tick(DEADLINE - timedelta(days=2))
    assert len(desk.on(T.DEADLINE_APPROACHING)) == 1  # not again
    desk.tick(DEADLINE + timedelta(days=1))
    assert len(desk.on(T.DENIAL_EXPIRED)) == 1


def test_clocks_are_per_partition():
    den = F.denial()
    desk = Desk().denial(den)
    other = on_appeal(F.tick(P + 1, DEADLINE + timedelta(days=5)), desk.store, desk.clocks,
                      P + 1, WARN)
    assert other.records == [] and desk.status(den) == "OPEN"


def test_rcm_tick_sends_one_valid_tick_to_each_partition_of_appeals():
    from kafka.future import Future

    from infra.settings import Settings
    from producers.tick import send_ticks
    from schemas import codec

    class Fake:
        def __init__(self):
            self.sent = []

        def send(self, topic, key, value, partition):
            self.sent.append((topic, partition, codec.decode_for(T.APPEALS, value)))
            return Future().success(None)  # acknowledged, as kafka-python resolves it

        def flush(self, timeout=None):
            pass

    fake = Fake()
    assert send_ticks(Settings(kafka_bootstrap_servers="unused:1"), DEADLINE, producer=fake) == T.APPEALS.partitions
    assert [(t, p) for t, p, _ in fake.sent] == [("appeals", p) for p in range(4)]
    assert all(validate_appeal(ev) == [] and ev["partition"] == p and ev["occurred_at"] == DEADLINE
               for _t, p, ev in fake.sent)
