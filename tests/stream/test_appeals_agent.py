"""The denial and appeal agents in faust's in-memory test context: state, lifecycle, timers."""
from __future__ import annotations

from datetime import timedelta

from processors import state as S
from processors.stage import partition_for
from schemas import topics as T
from tests import factories as F
from tests.stream.test_agents import CTX, collector, enc, feed, run  # noqa: F401 (fixture)
from tests.unit.test_denial_appeals import DEADLINE


def fresh() -> None:
    CTX.table(S.DENIALS_OPEN).data.clear()
    CTX.forget_clocks()


def test_an_early_write_off_waits_for_its_denial_then_posts_to_the_ledger(collector):  # noqa: F811

    fresh()
    den = F.denial(cents=12000)
    write_off = F.appeal("WRITTEN_OFF", den, at=F.T0 + timedelta(days=5), cents=5000)
    run(feed(T.APPEALS, [enc(write_off, T.APPEALS), enc(write_off, T.APPEALS)], collector, 1))
    assert collector.on(T.LEDGER_ENTRIES) == []
    assert [s["status"] for s in collector.on(T.DENIALS_OPEN)] == ["WAITING"]  # held once
    run(feed(T.DENIALS, [enc(den, T.DENIALS)], collector, 3))
    [journal] = collector.on(T.LEDGER_ENTRIES)
    assert journal["entries"][0]["insurance_delta_cents"] == -5000
    [step] = collector.on(T.DENIAL_LIFECYCLE)
    assert (step["action"], step["status"], step["open_cents"]) == ("WRITTEN_OFF", "OPEN", 7000)
    assert collector.on(T.DENIALS_OPEN)[-1]["open_cents"] == 7000
    assert collector.on(T.DEAD_LETTERS) == []


def test_ticks_fire_each_alert_once_and_bad_events_are_dead_lettered(collector):  # noqa: F811

    fresh()
    den = F.denial()
    p = partition_for(den["account_id"].encode(), T.APPEALS.partitions)
    run(feed(T.DENIALS, [enc(den, T.DENIALS)], collector, 1))
    ticks = [F.tick(p, DEADLINE - timedelta(days=10)), F.tick(p, DEADLINE - timedelta(days=9)),
             F.tick(p, DEADLINE + timedelta(days=2)), F.tick(p, DEADLINE + timedelta(days=3)),
             F.tick((p + 1) % 4, DEADLINE + timedelta(days=30))]
    bad = [F.appeal("UPHELD", den, n=7), {**F.appeal("WRITTEN_OFF", den, n=8), "amount_cents": -1}]
    run(feed(T.APPEALS, [enc(t, T.APPEALS) for t in ticks] + [enc(b, T.APPEALS) for b in bad]
             + [b"garbage"], collector, 8))
    assert len(collector.on(T.DEADLINE_APPROACHING)) == 1
    [expired] = collector.on(T.DENIAL_EXPIRED)
    assert expired["denial_id"] == den["denial_id"]
    dead = collector.on(T.DEAD_LETTERS)
    assert [d["stage"] for d in dead] == ["apply_appeals"] * 3
    assert "UPHELD needs a filed appeal; the denial is EXPIRED" in dead[0]["reason"]
    assert "write-off amount -1 is not positive" in dead[1]["reason"]
    assert dead[2]["error"] == "MALFORMED"
