"""X12 277CA -> ClaimStatusReported: acceptance mapping, every STC composite, bad input."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from producers.x12.ack277 import claim_statuses, is_accepted
from producers.x12.cli import convert
from producers.x12.tokens import X12Error, read
from schemas import codec
from schemas import topics as T
from tests.support import x12_generate as G

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
ON = date(2026, 3, 1)


def ack(claims, control=1) -> str:
    return G.x277ca(claims, payer_id="COMM-ACME", payer_name="ACME", on=ON, control=control)


def parse(text):
    [tx] = read(text, "a.edi").transactions
    assert tx.errors == []
    return claim_statuses(tx, NOW)


def test_accepted_and_rejected_claims_with_every_status_composite():
    a, r = parse(ack([
        {"claim_id": "CLM-E1", "statuses": [("A2", "20", "PR")], "total_charge_cents": 14500,
         "payer_claim_control_number": "PAYER-1", "service_start": date(2026, 2, 20),
         "service_end": date(2026, 2, 21)},
        {"claim_id": "CLM-E2", "statuses": [("A7", "21", "IL"), ("A3", "562", "")],
         "total_charge_cents": 9050},
    ]))
    assert (a["claim_id"], a["accepted"], a["payer_id"]) == ("CLM-E1", True, "COMM-ACME")
    assert a["statuses"] == [{"category": "A2", "code": "20", "entity": "PR"}]
    assert a["total_charge_cents"] == 14500 and a["payer_claim_control_number"] == "PAYER-1"
    assert (a["service_start"], a["service_end"]) == (date(2026, 2, 20), date(2026, 2, 21))
    assert a["occurred_at"] == datetime(2026, 3, 1, tzinfo=UTC)
    assert r["accepted"] is False and [s["category"] for s in r["statuses"]] == ["A7", "A3"]
    assert r["statuses"][1]["entity"] is None and r["total_charge_cents"] == 9050
    assert a["event_id"] != r["event_id"]
    for rec in (a, r):
        assert codec.decode_for(T.CLAIM_STATUS, codec.encode("ClaimStatusReported", rec)) == rec


@pytest.mark.parametrize(("categories", "accepted"), [
    (["A1"], True), (["A2"], True), (["A5"], True), (["A0"], True),
    (["A3"], False), (["A4"], False), (["A6"], False), (["A7"], False), (["A8"], False),
    (["A1", "A7"], False), (["E0"], False), (["P1"], True), (["F1"], True), (["F2"], True),
    (["R3"], True), (["D0"], False), (["F1", "A4"], False)])
def test_category_mapping(categories, accepted):
    assert is_accepted(categories) is accepted


def test_statuses_of_the_source_receiver_and_provider_levels_are_not_claims():
    recs = parse(ack([{"claim_id": "CLM-E9", "statuses": [("A1", "19", "PR")],
                       "total_charge_cents": 100}]))
    assert [r["claim_id"] for r in recs] == ["CLM-E9"]
    assert len(recs[0]["statuses"]) == 1


def test_event_ids_are_stable_across_a_re_read():
    text = ack([{"claim_id": "CLM-E1", "statuses": [("A2", "20", "")], "total_charge_cents": 1}])
    assert parse(text)[0]["event_id"] == parse(text)[0]["event_id"]


def test_a_status_without_a_code_names_the_segment():
    text = ack([{"claim_id": "CLM-E1", "statuses": [("A2", "20", "")], "total_charge_cents": 1}])
    [tx] = read(text.replace("STC*A2:20", "STC*A2"), "bad.edi").transactions
    with pytest.raises(X12Error) as info:
        claim_statuses(tx, NOW)
    assert info.value.segment_id == "STC" and "status code" in info.value.reason


def test_a_bad_277ca_is_dead_lettered_on_claim_status_and_the_good_one_goes_through():
    good = ack([{"claim_id": "CLM-E1", "statuses": [("A2", "20", "")], "total_charge_cents": 1}], 1)
    broken = ack([{"claim_id": "CLM-E2", "statuses": [("A2", "20", "")],
                   "total_charge_cents": 1}], 2).replace("*WQ*0.01", "*WQ*X")
    result = convert(good + broken, "acks.edi", NOW)
    [err] = result.errors
    assert err.segment_id == "STC" and "STC04 'X' is not a number" in err.reason
    by_topic = {}
    for r in result.records:
        by_topic.setdefault(r.topic.name, []).append(codec.decode_for(r.topic, r.value))
    assert [c["claim_id"] for c in by_topic["claim-status"]] == ["CLM-E1"]
    [dead] = by_topic["dead-letters"]
    assert dead["source_topic"] == "claim-status" and b"CLM-E2" in dead["payload"]


def test_generated_277ca_files_pass_pyx12():
    from sinks.x12.validate import validate

    text = ack([{"claim_id": "CLM-E1", "statuses": [("A2", "20", "PR")], "total_charge_cents": 14500,
                 "payer_claim_control_number": "P1", "service_start": date(2026, 2, 20)},
                {"claim_id": "CLM-E2", "statuses": [("A7", "21", "IL"), ("A3", "562", "")],
                 "total_charge_cents": 9050}])
    result = validate(text)
    assert result.ok, result.errors
