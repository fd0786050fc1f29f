"""Round trip: the synthetic hospital's encounters and remittances -> FHIR Bundles (samples.py) ->
the adapter's events, which must say what the synthetic records said."""
from __future__ import annotations

import pytest

from producers.fhir.adapter import convert
from producers.fhir.read import read_bytes
from schemas import codec
from schemas import topics as T
from tests.support import fhir_samples as samples

SAME = ("account_id", "patient_age", "patient_sex", "payer_id", "plan_type", "provider_npi",
        "facility_id", "encounter_class", "service_start", "service_end", "diagnoses",
        "procedures_pcs", "discharge_status")
REMIT_SAME = ("account_id", "claim_id", "payer_id", "payer_claim_control_number", "trace_number",
              "total_charge_cents", "total_paid_cents", "patient_responsibility_cents",
              "claim_adjustments", "lines", "remarks")


@pytest.fixture(scope="module")
def bundles():
    return samples.synthetic_bundles(events=600, seed=11)


def test_the_sample_covers_every_class_and_payer_kind(bundles):
    encounters = [enc for enc, _, _ in bundles]
    assert {e["encounter_class"] for e in encounters} == {"OFFICE", "OUTPATIENT", "EMERGENCY", "INPATIENT"}
    assert {e["plan_type"] for e in encounters} >= {"MEDICARE", "MEDICAID", "COMMERCIAL", "SELF_PAY"}
    assert any(r and r["claim_status"] == "4" for _, r, _ in bundles)


def test_generated_bundles_give_back_the_synthetic_encounters_and_remittances(bundles):
    for enc, rem, bundle in bundles:
        result = convert(read_bytes(samples.dumps(bundle).encode(), "b.json"), now_ms=0)
        assert result.ok, result.problems
        events = [codec.decode_for(r.topic, r.value) for r in result.records]
        visit, charges = events[0], events[1]
        assert (visit["kind"], charges["kind"]) == ("DISCHARGE", "CHARGES")
        assert visit["visit_number"] == charges["visit_number"] == enc["encounter_id"]
        for key in SAME:
            expected = enc.get(key)
            assert visit[key] == ([] if expected is None and key == "procedures_pcs" else expected), key
        assert charges["diagnoses"] == enc["diagnoses"]
        assert [(c["charge_code"], c["units"], c["unit_price_cents"], c["service_date"])
                for c in charges["charges"]] == [
            (c["charge_code"], c["units"], c["unit_price_cents"], c["service_date"]) for c in enc["charges"]]
        assert len({c["transaction_id"] for c in charges["charges"]}) == len(enc["charges"])
        if rem is None:
            assert len(events) == 2
            continue
        got = events[2]
        for key in REMIT_SAME:
            assert got[key] == rem[key], key
        # FHIR has no CLP02: a claim with nothing paid and nothing owed by the patient is denied (4)
        nothing = rem["total_paid_cents"] == 0 and rem["patient_responsibility_cents"] == 0
        assert got["claim_status"] == ("4" if nothing and rem["lines"] else rem["claim_status"])


def test_the_visit_processor_assembles_the_synthetic_encounter_from_the_fhir_events(bundles):
    from processors.state import VISITS_PENDING
    from processors.visits.rules import assemble
    from tests.support.stores import DictStore

    for enc, _, bundle in bundles[:120]:
        result = convert(read_bytes(samples.dumps(bundle).encode(), "b.json"), now_ms=0)
        store, built = DictStore(VISITS_PENDING), []
        for rec in result.records:
            if rec.topic.name == "visit-events":
                outcome = assemble(codec.decode_for(rec.topic, rec.value), store)
                assert outcome.rejected == []
                built += outcome.of(T.ENCOUNTERS)
        (got,) = built
        assert got["encounter_id"] == enc["encounter_id"]
        for key in (*SAME, "charges"):
            expected = enc.get(key)
            assert got[key] == ([] if expected is None and key == "procedures_pcs" else expected), key
