"""processors.stage.send: what every stateful stage hands on for one input (its state changes, the
rule's records, a kept dead letter per refused event), delivered results first."""
from __future__ import annotations

import asyncio

import pytest

from processors import state as S
from processors.stage import ProducerEmitter, send
from schemas import codec
from schemas import topics as T
from schemas.envelope import record
from tests import factories as F


def _store_with_one_write() -> S.TableStore:
    store = S.TableStore(S.Table(T.DENIALS_OPEN), S.DENIALS_OPEN)
    den = F.denial(3)
    store.put({"denial_id": den["denial_id"], "account_id": den["account_id"],
               "denial": codec.encode(T.DENIALS.value_schema, den), "status": "OPEN",
               "open_cents": 14500, "warned": False, "expired": False, "held": [],
               "history": []})
    return store


def test_state_changes_then_records_then_kept_dead_letters_each_encoded_for_its_topic():
    store = _store_with_one_write()
    den, ev = F.denial(4), F.appeal("FILED", F.denial(5))
    ready = record(T.DENIALS, F.denial(6))
    out = send((store,), [(T.DENIALS, den)], [ready], rejected=[(ev, "no such denial")],
               refused_by=(T.APPEALS, "apply_appeals"))
    assert [o.topic for o in out] == [T.DENIALS_OPEN, T.DENIALS, T.DENIALS, T.DEAD_LETTERS]
    assert out[0] == store.writes[0]
    assert (out[1].key, codec.decode_for(T.DENIALS, out[1].value)["denial_id"]) == (
        den["account_id"].encode(), den["denial_id"])
    assert out[2] is ready
    letter = codec.decode_for(T.DEAD_LETTERS, out[3].value)
    assert (letter["event_id"], letter["stage"], letter["reason"]) == (
        f"appeals:{ev['event_id']}:apply_appeals", "apply_appeals", "no such denial")


def test_a_stage_with_nothing_to_say_sends_nothing():
    empty = S.TableStore(S.Table(T.CLAIM_STATE), S.CLAIM_STATE)
    assert send((empty,), (), rejected=()) == []


def test_a_refused_event_needs_the_stage_that_dead_letters_it():
    with pytest.raises(TypeError):
        send((), rejected=[(F.appeal("FILED", F.denial(5)), "no such denial")])


class _Batch:
    def __init__(self):
        self.records = 0

    def append(self, key, value, timestamp, headers=()):  # aiokafka BatchBuilder.append
        self.records += 1
        return self


class _Producer:
    """Records the topic of each record in the order the emitter hands it over."""

    def __init__(self):
        self.order: list[str] = []

    def create_batch(self):
        return _Batch()

    async def send_batch(self, batch, topic, partition):
        self.order += [topic] * batch.records
        future = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


def test_the_emitter_delivers_the_results_before_the_state_changes_that_come_first_in_the_list():
    out = send((_store_with_one_write(),), [(T.DENIALS, F.denial(4))])
    producer = _Producer()
    asyncio.run(ProducerEmitter(producer, timeout_s=1, attempts=1).send_many(out))
    assert producer.order == [T.DENIALS.name, T.DENIALS_OPEN.name]
