"""The chaos run's supervisor: restarts what it killed, what exited, and what never got ready."""
from __future__ import annotations

import time

from infra import chaos


class Fake:
    """A service that becomes ready only on its `ready_on`-th start."""

    def __init__(self, ready_on: int):
        self.starts, self.kills, self.ready_on, self.running = 0, 0, ready_on, True

    def component(self) -> chaos.Component:
        return chaos.Component("process", "processor", self.kill, self.start,
                               lambda: self.running and self.starts >= self.ready_on)

    def kill(self):
        self.kills += 1
        self.running = False
        return 1000 + self.kills

    def start(self):
        self.starts += 1
        self.running = True


def test_a_service_alive_but_never_ready_is_killed_and_started_again(monkeypatch):
    monkeypatch.setattr(chaos, "HUNG_S", 0.05)
    fake = Fake(ready_on=2)
    result = chaos.Result(seed=1, events=0, duration_s=0)
    sup = chaos.Supervisor([fake.component()], time.monotonic(), result, lambda _m: None)
    sup.kill(fake.component(), down=0.0)
    sup.tick()  # started again (start 1): alive, never ready
    assert sup.state["process"] == "starting" and fake.starts == 1
    time.sleep(0.1)
    sup.tick()  # hung: killed and started again (start 2)
    assert [e.what for e in result.hung] == ["hung"] and fake.starts == 2
    sup.tick()
    assert sup.state["process"] == "up"
    assert result.kills[0].recovered_s is not None


def test_dead_letters_count_bad_events_once_even_when_the_input_held_one_twice(monkeypatch):
    """A producer retry re-sends an event with a new send time: two input records, two dead
    letters, other bytes, one bad event. Undecodable payloads count by their bytes."""
    from schemas import codec

    rows = [(b"A1",), (b"A2",), (b"B",), (b"junk",), (b"junk2",), (b"junk",)]
    events = {b"A1": "bad-1", b"A2": "bad-1", b"B": "bad-2"}

    def decode(data):
        if data in events:
            return "PaymentReceived", {"event_id": events[data]}
        raise codec.DecodeError("MALFORMED", "garbage")

    monkeypatch.setattr(chaos.report, "query", lambda dsn, sql: rows)
    monkeypatch.setattr(codec, "decode", decode)
    assert chaos.distinct_dead_letters("postgresql://x") == 4  # bad-1, bad-2, junk, junk2
