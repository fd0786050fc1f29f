"""The owner stage of a topic validates each record once: it runs first, dead-letters what it
rejects, and the other stages on the topic never see that record."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

from processors.stage import Rejected, Stage, run_batch
from schemas import codec
from schemas import topics as T
from tests import factories as F


class Collector:
    def __init__(self):
        self.sent = []

    async def send_many(self, out) -> None:
        self.sent.extend(out)


def event(value: bytes, offset: int):
    return SimpleNamespace(message=SimpleNamespace(key=b"k", value=value, partition=0,
                                                   offset=offset))


def test_records_the_owner_rejects_reach_no_other_stage_and_the_owner_runs_first():
    seen: list[tuple[str, str]] = []

    def owner(remit):
        seen.append(("owner", remit["event_id"]))
        if remit["total_paid_cents"] < 0:
            raise Rejected("negative payment")
        return []

    def follower(remit):
        seen.append(("follower", remit["event_id"]))
        return []

    good = {**F.remittance(1), "event_id": "R-good"}
    bad = {**F.remittance(2), "event_id": "R-bad", "total_paid_cents": -5}
    stages = (Stage("follow", T.REMITTANCES, follower, owner=False),
              Stage("own", T.REMITTANCES, owner, owner=True))
    out = Collector()
    events = [event(codec.encode(T.REMITTANCES.value_schema, r), i) for i, r in enumerate((good, bad))]
    asyncio.run(run_batch(T.REMITTANCES, events, stages, out))
    assert seen == [("owner", "R-good"), ("follower", "R-good"), ("owner", "R-bad")]
    dead = [codec.decode_for(T.DEAD_LETTERS, o.value) for o in out.sent if o.topic is T.DEAD_LETTERS]
    assert [(d["stage"], d["reason"], d["source_offset"]) for d in dead] == \
        [("own", "negative payment", 1)]


def test_a_malformed_record_is_dead_lettered_once_by_the_owner_and_no_stage_runs():
    calls = []
    stages = (Stage("own", T.REMITTANCES, lambda r: calls.append(r) or [], owner=True),
              Stage("follow", T.REMITTANCES, lambda r: calls.append(r) or [], owner=False))
    out = Collector()
    asyncio.run(run_batch(T.REMITTANCES, [event(b"garbage", 7)], stages, out))
    assert calls == []
    [dead] = [codec.decode_for(T.DEAD_LETTERS, o.value) for o in out.sent]
    assert (dead["stage"], dead["error"], dead["source_offset"]) == ("own", "MALFORMED", 7)


def test_a_stage_keeping_its_input_as_it_came_keeps_the_bytes_it_was_read_from():
    kept = []

    def keep(remit):
        kept.append((codec.encode_as_read(T.REMITTANCES.value_schema, remit),
                     codec.encode_as_read(T.REMITTANCES.value_schema,
                                          {**remit, "total_paid_cents": 1})))
        return []

    data = codec.encode(T.REMITTANCES.value_schema, F.remittance(3))
    asyncio.run(run_batch(T.REMITTANCES, [event(data, 0)],
                          (Stage("keep", T.REMITTANCES, keep),), Collector()))
    [(same, changed)] = kept
    assert same is data  # not encoded again
    assert codec.decode_for(T.REMITTANCES, changed)["total_paid_cents"] == 1  # another record: encoded
    # once the batch is done no record is being handled: an equal record is encoded afresh
    again = codec.encode_as_read(T.REMITTANCES.value_schema, codec.decode_for(T.REMITTANCES, data))
    assert again == data and again is not data
