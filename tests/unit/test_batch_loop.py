"""The processor's batch loop: each partition in offset order, state restored before its records,
and a commit never past a record whose output the broker did not take."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

from aiokafka import TopicPartition

from infra.settings import load
from processors import runtime as R
from processors import state as S
from processors.context import Context
from processors.runtime import Offsets, Runtime
from processors.stage import Stage
from schemas import codec
from schemas import topics as T
from tests import factories as F

P0 = TopicPartition(T.PAYMENTS.name, 0)
P1 = TopicPartition(T.PAYMENTS.name, 1)


def rec(tp: TopicPartition, offset: int, n: int | None = None):
    value = codec.encode(T.PAYMENTS.value_schema, F.payment(n if n is not None else offset))
    return SimpleNamespace(topic=tp.topic, partition=tp.partition, offset=offset, key=b"k",
                           value=value)


def test_records_are_admitted_only_in_offset_order_and_a_jump_asks_to_seek_back():
    o = Offsets()
    o.next = {P0: 5, P1: 0}
    admitted, ahead, jumped = o.admit([rec(P0, 4), rec(P0, 5), rec(P0, 6), rec(P0, 8), rec(P0, 9),
                                       rec(P1, 2), rec(P1, 3)])
    assert [(r.partition, r.offset) for r in admitted] == [(0, 5), (0, 6)]
    assert ahead == {P0: 7}
    assert jumped == {P0: 7, P1: 0}  # 8 came where 7 was next; partition 1 began at 2, not 0
    assert o.due_seeks(jumped, now=100.0) == {P0: 7, P1: 0}
    assert o.due_seeks(jumped, now=100.5) == {}  # not again within RESEEK_AFTER_S


def test_a_partition_not_placed_yet_processes_nothing():
    o = Offsets()
    assert o.admit([rec(P0, 0)]) == ([], {}, {})


class Consumer:
    def __init__(self):
        self.commits: list[dict] = []
        self.sought: dict = {}

    async def commit(self, offsets):
        self.commits.append(dict(offsets))

    def seek(self, tp, offset):
        self.sought[tp] = offset


class Emitter:
    """Takes the output unless told to give up (the worker would exit 75 without a commit)."""

    def __init__(self, fail: bool = False, gate: asyncio.Event | None = None):
        self.fail, self.gate = fail, gate
        self.delivered: list = []

    async def send_many(self, out):
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise SystemExit(75)
        self.delivered.extend(out)


def runtime(emitter, next_offsets) -> Runtime:
    seen: list = []

    def handle(payment):
        seen.append(payment["event_id"])
        return []

    stage = Stage("post_payments", T.PAYMENTS, handle, owner=True)
    rt = Runtime(Context(load()), [stage], load())
    rt.consumer, rt.emitter, rt.seen = Consumer(), emitter, seen
    rt.offsets.next.update(next_offsets)
    rt.committed.update(next_offsets)
    return rt


def test_a_delivered_batch_is_committed_at_its_last_offset_plus_one(monkeypatch):
    monkeypatch.setattr(R, "COMMIT_EVERY_S", 0.0)
    rt = runtime(Emitter(), {P0: 0, P1: 10})
    asyncio.run(rt.process([rec(P0, 0), rec(P0, 1), rec(P1, 10)]))
    assert rt.seen == [F.payment(0)["event_id"], F.payment(1)["event_id"],
                       F.payment(10)["event_id"]]
    assert rt.consumer.commits == [{P0: 2, P1: 11}]


def test_a_batch_the_broker_never_took_is_not_committed(monkeypatch):
    monkeypatch.setattr(R, "COMMIT_EVERY_S", 0.0)
    rt = runtime(Emitter(fail=True), {P0: 0})
    try:
        asyncio.run(rt.process([rec(P0, 0), rec(P0, 1)]))
    except SystemExit as exc:
        assert exc.code == 75
    assert rt.consumer.commits == []
    assert rt.offsets.next == {P0: 0}


def test_a_revocation_waits_for_the_batch_in_flight_and_commits_only_what_was_delivered(
        monkeypatch):
    monkeypatch.setattr(R, "COMMIT_EVERY_S", 3600.0)  # only the revocation commits

    async def scenario(rt, gate):
        batch = asyncio.create_task(rt.process([rec(P0, 0), rec(P0, 1)]))
        await asyncio.sleep(0.05)  # the batch waits for its delivery
        revoked = asyncio.create_task(rt.revoke())
        await asyncio.sleep(0.05)
        assert not revoked.done() and rt.consumer.commits == []
        gate.set()  # the broker acknowledges
        await asyncio.gather(batch, revoked)

    gate = asyncio.Event()
    rt = runtime(Emitter(gate=gate), {P0: 0})
    rt.ctx.table(S.CLAIM_STATE).put(b"CLM-1", b"v", 0)
    asyncio.run(scenario(rt, gate))
    assert rt.consumer.commits == [{P0: 2}]
    assert rt.offsets.next == {} and rt.ctx.table(S.CLAIM_STATE).data == {}
    asyncio.run(rt.process([rec(P0, 2)]))  # records fetched before the revocation: not processed
    assert len(rt.seen) == 2


def test_an_assigned_partition_is_restored_before_it_is_placed_at_its_committed_offset():
    calls: list = []
    rt = runtime(Emitter(), {})

    async def restore(tps):
        calls.append(("restore", sorted(tps)))
        assert rt.offsets.next == {}  # nothing of the partition is processed before
        return 0

    async def starting_offsets(tps):
        calls.append(("offsets", sorted(tps)))
        return {P0: 7, P1: 0}

    rt.restore, rt.starting_offsets = restore, starting_offsets
    asyncio.run(rt.assign({P0, P1}))
    assert [c[0] for c in calls] == ["restore", "offsets"]
    assert rt.consumer.sought == {P0: 7, P1: 0} and rt.offsets.next == {P0: 7, P1: 0}
    assert rt.ctx.assignment == frozenset({P0, P1})
    asyncio.run(rt.process([rec(P0, 6), rec(P0, 7)]))  # 6 was processed before the commit
    assert rt.seen == [F.payment(7)["event_id"]]


def test_the_state_partitions_restored_are_those_of_the_assigned_input_partitions(monkeypatch):
    rt = runtime(Emitter(), {})
    stage = Stage("work_denials", T.DENIALS, lambda d: [], reads=(S.DENIALS_OPEN,),
                  writes=(S.DENIALS_OPEN,))
    rt.stages[T.DENIALS.name] = (stage,)
    wanted: list = []

    async def fake_restore(settings, tables, tps):
        wanted.extend(tps)
        return 0

    monkeypatch.setattr(R, "restore", fake_restore)
    rt.ctx.table(S.DENIALS_OPEN).put(b"D1", b"old", 2)
    rt.ctx.table(S.DENIALS_OPEN).put(b"D2", b"kept", 3)
    asyncio.run(rt.restore({TopicPartition(T.DENIALS.name, 2), P0}))
    assert wanted == [TopicPartition(T.DENIALS_OPEN.name, 2)]
    assert rt.ctx.table(S.DENIALS_OPEN).data == {b"D2": b"kept"}  # partition 2 read again
