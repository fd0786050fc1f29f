"""Each stage as the worker builds it, run in memory on a batch: decode, rule, emit, dead-letter."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from infra.settings import load
from processors import state as S
from processors.context import Context
from processors.stage import run_batch
from processors.worker import build_stages, stages_on
from schemas import codec
from schemas import topics as T
from tests import factories as F


class Collector:
    def __init__(self):
        self.sent: list[tuple[str, bytes, dict]] = []

    async def send_many(self, out) -> None:
        self.sent.extend((o.topic.name, o.key, codec.decode(o.value)[1]) for o in out)

    def on(self, topic: T.Topic) -> list[dict]:
        return [rec for name, _k, rec in self.sent if name == topic.name]


# One worker's context and stages, shared by the stream tests (the code set loads once); each
# test clears the tables it relies on.
CTX = Context(load())
STAGES = build_stages(CTX)
_OFFSETS = [0]


@pytest.fixture
def collector():
    return Collector()


async def feed(topic: T.Topic, values: list[bytes], collector: Collector, expect: int) -> None:
    """Run `values` through the stages on `topic` as one batch of partition 0; `expect` is how
    many records the test expects out (kept for reading: the batch runs to its end)."""
    records = []
    for v in values:
        records.append(SimpleNamespace(topic=topic.name, partition=0, offset=_OFFSETS[0],
                                       key=b"k", value=v))
        _OFFSETS[0] += 1
    await run_batch(topic, records, stages_on(STAGES, topic), collector)


def enc(rec: dict, topic: T.Topic) -> bytes:
    return codec.encode(topic.value_schema, rec)


def run(coro):
    asyncio.run(coro)


def test_remittance_agent_flags_one_denial_per_denied_line_and_posts_nothing_for_it(collector):

    line = {"line": 1, "procedure_code": "99213", "units": 1, "charge_cents": 14500,
            "paid_cents": 0, "adjustments": [F.adjustment("CO", "50", 14500)], "remarks": ["N115"]}
    run(feed(T.REMITTANCES, [enc(F.remittance(lines=[line], status="4"), T.REMITTANCES)],
             collector, 1))
    [denial] = collector.on(T.DENIALS)
    assert denial["category"] == "MEDICAL_NECESSITY"
    assert denial["amount_cents"] == 14500
    assert collector.on(T.LEDGER_ENTRIES) == []  # the denied amount stays open in insurance
    assert collector.on(T.DEAD_LETTERS) == []


def test_a_bad_remittance_gives_exactly_one_dead_letter_from_its_owner_stage(collector):

    run(feed(T.REMITTANCES, [b"\x00\x00\x00\x00\x02garbage"], collector, 1))
    [dead] = collector.on(T.DEAD_LETTERS)
    assert (dead["stage"], dead["error"]) == ("post_remittances", "MALFORMED")
    assert len(collector.sent) == 1


def test_remittance_agent_dead_letters_malformed_bytes_and_keeps_going(collector):

    good = enc(F.remittance(), T.REMITTANCES)
    run(feed(T.REMITTANCES, [b"not avro at all", good], collector, 2))
    [dead] = collector.on(T.DEAD_LETTERS)
    assert dead["error"] == "MALFORMED" and dead["source_topic"] == "remittances"
    [journal] = collector.on(T.LEDGER_ENTRIES)
    entries = journal["entries"]
    assert sorted(e["kind"] for e in entries) == [
        "CONTRACTUAL_ADJUSTMENT", "PAYER_PAYMENT", "TRANSFER_TO_PATIENT"]
    assert sum(e["insurance_delta_cents"] for e in entries) == -14500
    assert sum(e["patient_delta_cents"] for e in entries) == 2000
    assert collector.on(T.DENIALS) == []


def test_payment_agent_dead_letters_unknown_schema_and_impossible_amounts(collector):

    unknown = b"\x00\x00\x00\x03\xe7" + b"\x02"
    zero = enc(F.payment(cents=0), T.PAYMENTS)
    refund = enc(F.payment(2, cents=1234, kind="REFUND"), T.PAYMENTS)
    run(feed(T.PAYMENTS, [unknown, zero, refund], collector, 3))
    errors = sorted(d["error"] for d in collector.on(T.DEAD_LETTERS))
    assert errors == ["INVALID", "UNKNOWN_SCHEMA"]
    [journal] = collector.on(T.LEDGER_ENTRIES)
    [entry] = journal["entries"]
    assert (entry["kind"], entry["patient_delta_cents"]) == ("PATIENT_REFUND", 1234)


def test_encounter_agent_codes_and_posts_charges_or_dead_letters_once(collector):

    good = enc(F.encounter(1), T.ENCOUNTERS)
    bad = enc(F.encounter(2, charges=[{"line": 1, "charge_code": "CM999999", "units": 1,
                                       "unit_price_cents": 100, "service_date": F.DOS}]),
              T.ENCOUNTERS)
    run(feed(T.ENCOUNTERS, [good, bad], collector, 3))
    [coded] = collector.on(T.ENCOUNTERS_CODED)
    assert coded["encounter_id"] == "E0000001" and coded["diagnoses"][0]["code"] == "I10"
    [journal] = collector.on(T.LEDGER_ENTRIES)
    assert journal["entries"][0]["insurance_delta_cents"] == 14500
    [dead] = collector.on(T.DEAD_LETTERS)
    assert dead["stage"] == "code_encounters" and "not in the charge master" in dead["reason"]


def test_coded_encounter_agent_builds_a_clean_claim(collector):
    from processors.coding.rules import code_encounter

    coder, charge_master = CTX.reference()
    kind, coded = code_encounter(F.encounter(3), charge_master, coder, 0.8)
    assert kind == "coded"
    run(feed(T.ENCOUNTERS_CODED, [enc(coded, T.ENCOUNTERS_CODED)], collector, 1))
    [claim] = collector.on(T.CLAIMS)
    assert (claim["claim_id"], claim["status"], claim["total_charge_cents"]) == (
        "CLM-E0000003", "CLEAN", 14500)


def test_a_reviewed_encounter_is_held_in_the_table_and_a_decision_releases_it(collector):

    vague = F.encounter(41, diagnoses=[{"sequence": 1, "text": "feeling off", "code": None}])
    run(feed(T.ENCOUNTERS, [enc(vague, T.ENCOUNTERS)], collector, 3))
    [review] = collector.on(T.CODING_REVIEW)
    assert review["encounter_id"] == "E0000041"
    [state] = collector.on(T.CODING_PENDING)  # the changelog record, sent with the review
    assert (state["encounter_id"], state["released"]) == ("E0000041", False)
    assert collector.on(T.ENCOUNTERS_CODED) == []
    assert CTX.store(S.CODING_PENDING).get("E0000041")["encounter"] is not None

    decision = {"event_id": "dec-41", "encounter_id": "E0000041", "account_id": vague["account_id"],
                "coder_id": "CODER-07", "decided_at": F.T0, "emitted_at": F.T0,
                "diagnoses": [{"sequence": 1, "code": "R53.83"}], "procedures": []}
    not_billable = decision | {"event_id": "dec-42", "encounter_id": "E0000042",
                               "diagnoses": [{"sequence": 1, "code": "E11"}]}
    collector.sent.clear()
    run(feed(T.CODING_DECISIONS, [enc(decision, T.CODING_DECISIONS),
                                   enc(not_billable, T.CODING_DECISIONS)], collector, 3))
    [released] = collector.on(T.ENCOUNTERS_CODED)
    assert [d["code"] for d in released["diagnoses"]] == ["R53.83"]
    assert released["coded_by"]["coder_id"] == "CODER-07"
    assert [s["released"] for s in collector.on(T.CODING_PENDING)] == [True]
    [dead] = collector.on(T.DEAD_LETTERS)
    assert dead["stage"] == "release_coding" and "not billable" in dead["reason"]
