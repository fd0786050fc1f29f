"""The synthetic hospital's encounters, sent as HL7 v2 ADT + DFT^P03 and assembled again, come back
as the same encounters (the fields HL7 carries)."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from processors.state import VISITS_PENDING
from processors.visits.rules import assemble
from producers.hl7.parse import visit_events
from producers.synthetic import generate
from schemas import codec
from schemas import topics as T
from tests.support import hl7_compose as compose
from tests.support.stores import DictStore

NOT_CARRIED = ("event_id", "occurred_at", "emitted_at", "em", "discharged_at", "secondary_payer_id",
               "cancelled")


def synthetic_encounters(n: int = 400, seed: int = 5) -> list[dict]:
    scenario = generate(n, seed)
    encounters = [codec.decode_for(T.ENCOUNTERS, r.value) for r in scenario.records
                  if r.topic is T.ENCOUNTERS and not r.bad]
    return list({e["encounter_id"]: e for e in encounters}.values())  # a corrected re-send replaces


def test_synthetic_encounters_survive_hl7_and_visit_assembly_in_any_order():
    rng = random.Random(3)
    encounters = synthetic_encounters()
    assert {e["encounter_class"] for e in encounters} == {"OFFICE", "OUTPATIENT", "EMERGENCY",
                                                         "INPATIENT"}
    store = DictStore(VISITS_PENDING)
    for enc in encounters:
        at = datetime.combine(enc["service_start"], datetime.min.time(), UTC)
        opening = "ADMIT" if enc["encounter_class"] == "INPATIENT" else "REGISTER"
        messages = [compose.adt(enc, opening, f"{enc['event_id']}-1", at),
                    compose.dft(enc, f"{enc['event_id']}-2", at + timedelta(hours=1)),
                    compose.adt(enc, "DISCHARGE", f"{enc['event_id']}-3", at + timedelta(hours=2))]
        rng.shuffle(messages)
        out = []
        for m in messages:
            for ev in visit_events(m, at):
                out += assemble(codec.decode_for(T.VISIT_EVENTS, codec.encode(
                    T.VISIT_EVENTS.value_schema, ev)), store).of(T.ENCOUNTERS)
        [got] = out
        codec.encode(T.ENCOUNTERS.value_schema, got)
        assert {k: v for k, v in got.items() if k not in NOT_CARRIED} == \
            {k: v for k, v in enc.items() if k not in NOT_CARRIED}, enc["encounter_id"]
        assert got["discharged_at"] == at + timedelta(hours=2)
