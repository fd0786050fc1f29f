"""Each stage agent in faust's in-memory test context: decode, rule, emit, dead-letter."""
from __future__ import annotations

import asyncio

import pytest

from processors import app as A
from schemas import codec
from schemas import topics as T
from tests import factories as F


class Collector:
    def __init__(self):
        self.sent: list[tuple[str, bytes, dict]] = []

    async def send(self, topic: str, key: bytes, value: bytes) -> None:
        self.sent.append((topic, key, codec.decode(value)[1]))

    def on(self, topic: T.Topic) -> list[dict]:
        return [rec for name, _k, rec in self.sent if name == topic.name]


@pytest.fixture
def collector(monkeypatch):
    c = Collector()
    monkeypatch.setattr(A, "emitter", lambda: c)
    return c


async def feed(agent, values: list[bytes], collector: Collector, expect: int) -> None:
    async with agent.test_context() as ctx:
        for v in values:
            await ctx.put(v, key=b"k")
        for _ in range(200):
            if len(collector.sent) >= expect:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)  # anything extra would show up now


def enc(rec: dict, topic: T.Topic) -> bytes:
    return codec.encode(topic.value_schema, rec)


def run(coro):
    asyncio.run(coro)


def test_flag_denials_emits_one_denial_per_denied_line(collector):
    from processors.denials.agent import flag_denials_agent

    line = {"line": 1, "procedure_code": "99213", "units": 1, "charge_cents": 14500,
            "paid_cents": 0, "adjustments": [F.adjustment("CO", "50", 14500)], "remarks": ["N115"]}
    run(feed(flag_denials_agent, [enc(F.remittance(lines=[line], status="4"), T.REMITTANCES)],
             collector, 1))
    [denial] = collector.on(T.DENIALS)
    assert denial["category"] == "MEDICAL_NECESSITY"
    assert denial["amount_cents"] == 14500
    assert collector.on(T.DEAD_LETTERS) == []


def test_denial_stage_skips_bad_remittances_without_dead_lettering(collector):
    from processors.denials.agent import flag_denials_agent

    run(feed(flag_denials_agent, [b"\x00\x00\x00\x00\x02garbage"], collector, 1))
    assert collector.sent == []


def test_post_remittances_dead_letters_malformed_bytes_and_keeps_going(collector):
    from processors.ledger.agent import post_remittances

    good = enc(F.remittance(), T.REMITTANCES)
    run(feed(post_remittances, [b"not avro at all", good], collector, 2))
    [dead] = collector.on(T.DEAD_LETTERS)
    assert dead["error"] == "MALFORMED" and dead["source_topic"] == "remittances"
    [journal] = collector.on(T.LEDGER_ENTRIES)
    entries = journal["entries"]
    assert sorted(e["kind"] for e in entries) == [
        "CONTRACTUAL_ADJUSTMENT", "PAYER_PAYMENT", "TRANSFER_TO_PATIENT"]
    assert sum(e["insurance_delta_cents"] for e in entries) == -14500
    assert sum(e["patient_delta_cents"] for e in entries) == 2000


def test_post_payments_dead_letters_unknown_schema_and_impossible_amounts(collector):
    from processors.ledger.agent import post_payments

    unknown = b"\x00\x00\x00\x03\xe7" + b"\x02"
    zero = enc(F.payment(cents=0), T.PAYMENTS)
    refund = enc(F.payment(2, cents=1234, kind="REFUND"), T.PAYMENTS)
    run(feed(post_payments, [unknown, zero, refund], collector, 3))
    errors = sorted(d["error"] for d in collector.on(T.DEAD_LETTERS))
    assert errors == ["INVALID", "UNKNOWN_SCHEMA"]
    [journal] = collector.on(T.LEDGER_ENTRIES)
    [entry] = journal["entries"]
    assert (entry["kind"], entry["patient_delta_cents"]) == ("PATIENT_REFUND", 1234)
