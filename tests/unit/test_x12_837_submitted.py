"""The processor's rule for claims a hospital already submitted: taken as billed, versioned in
claim-state, charges posted once (a redelivery and a re-sent file post nothing twice; a void takes
them off)."""
from __future__ import annotations

from datetime import UTC, datetime

from processors.claims.submitted import on_submitted, problems
from processors.state import CLAIM_STATE, ENCOUNTER_CHARGES
from producers.x12.claims837 import claims
from producers.x12.tokens import read
from schemas import codec
from schemas import topics as T
from tests.support.stores import DictStore
from tests.unit.test_x12_837_in import professional

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def submitted():
    [tx] = read(professional(), "t.837").transactions
    return claims(tx, NOW)[0][0]


def charges(entries):
    return [(e["event_id"], e["insurance_delta_cents"]) for e in entries]


def test_a_submitted_claim_goes_on_claims_as_billed_and_posts_one_charge_per_line_once():
    claim, store, cstore = submitted(), DictStore(CLAIM_STATE), DictStore(ENCOUNTER_CHARGES)
    out, entries = on_submitted(claim, store, cstore)
    assert out == claim and problems(claim) == []
    assert charges(entries) == [(f"{claim['event_id']}:charge:1", 14500),
                                (f"{claim['event_id']}:charge:2", 10000)]
    again, entries = on_submitted(claim, store, cstore)  # a redelivery: the same ids again
    assert again == codec.decode_for(T.CLAIMS, codec.encode("ClaimBuilt", claim))
    assert charges(entries) == [(f"{claim['event_id']}:charge:1", 14500),
                                (f"{claim['event_id']}:charge:2", 10000)]
    resent = {**claim, "event_id": "x837:H:2:1:1", "source_event_id": "x837:H:2:1:1"}
    out, entries = on_submitted(resent, store, cstore)  # the same claim in another file
    assert out["version"] == 1 and entries == []


def test_a_replacement_is_the_next_version_and_a_void_takes_the_charges_off():
    claim, store, cstore = submitted(), DictStore(CLAIM_STATE), DictStore(ENCOUNTER_CHARGES)
    on_submitted(claim, store, cstore)
    lines = [claim["lines"][0]]
    fixed = {**claim, "event_id": "f2", "source_event_id": "f2", "frequency_code": "7",
             "lines": lines, "total_charge_cents": 14500}
    out, entries = on_submitted(fixed, store, cstore)
    assert (out["version"], out["frequency_code"], out["event_id"]) == (2, "7", "f2:v2")
    assert charges(entries) == [("f2:uncharge:2", -10000)]
    void = {**fixed, "event_id": "f3", "source_event_id": "f3", "frequency_code": "8"}
    out, entries = on_submitted(void, store, cstore)
    assert out["version"] == 3 and charges(entries) == [("f3:uncharge:1", -14500)]


def test_a_claim_whose_total_is_not_its_lines_or_not_submitted_is_refused():
    claim = submitted()
    assert problems({**claim, "total_charge_cents": 1}) == [
        "total charge is not the sum of the line charges"]
    assert "is not SUBMITTED" in problems({**claim, "status": "CLEAN"})[0]
