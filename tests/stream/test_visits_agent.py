"""The visit-assembly agent in faust's in-memory test context."""
from __future__ import annotations

from processors import state as S
from schemas import topics as T
from tests.stream.test_agents import CTX, collector, enc, feed, run  # noqa: F401 (fixture)
from tests.unit.test_visits_rules import admit, charges, discharge


def test_visit_events_become_one_encounter_with_the_state_written_beside_it(collector):  # noqa: F811

    CTX.table(S.VISITS_PENDING).data.clear()
    values = [enc(e, T.VISIT_EVENTS) for e in (admit(), charges(), charges(), discharge())]
    run(feed(T.VISIT_EVENTS, values, collector, 4))
    [encounter] = collector.on(T.ENCOUNTERS)
    assert (encounter["encounter_id"], encounter["event_id"]) == ("V7", "visit:V7")
    states = collector.on(T.VISITS_PENDING)
    assert [s["status"] for s in states] == ["OPEN", "OPEN", "BILLED"]  # the duplicate wrote nothing
    assert collector.on(T.DEAD_LETTERS) == []
    names = [name for name, _k, _v in collector.sent]
    assert names.index(T.VISITS_PENDING.name) < names.index(T.ENCOUNTERS.name)


def test_bad_bytes_and_incomplete_visits_are_dead_lettered_and_a_late_charge_re_sends(collector):  # noqa: F811

    CTX.table(S.VISITS_PENDING).data.clear()
    incomplete = admit(2, visit_number="V8", payer_id=None, plan_type=None)
    values = [b"garbage", *(enc(e, T.VISIT_EVENTS) for e in (
        admit(), charges(), discharge(), charges(9, 60, txns=("T9",)),
        incomplete, charges(3) | {"visit_number": "V8"}, discharge(3) | {"visit_number": "V8"}))]
    run(feed(T.VISIT_EVENTS, values, collector, 12))
    dead = collector.on(T.DEAD_LETTERS)
    assert [d["stage"] for d in dead] == ["assemble_visits"] * 2
    assert dead[0]["error"] == "MALFORMED"
    assert "lacks payer_id, plan_type" in dead[1]["reason"]
    # the late charge sends V7 again (a corrected claim follows), with both charge lines
    first, fixed = collector.on(T.ENCOUNTERS)
    assert (first["encounter_id"], fixed["encounter_id"]) == ("V7", "V7")
    assert (len(first["charges"]), len(fixed["charges"])) == (1, 2)
    assert CTX.table(S.VISITS_PENDING).data[b"V8"] is not None  # kept for an update
