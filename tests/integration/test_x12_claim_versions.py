"""`rcm sink-x12` and claim versions on real Kafka and PostgreSQL: a corrected version goes out
again as a replacement (frequency 7, REF*F8), a redelivered version never twice, a secondary claim
with SBR01 S and the primary's adjudication."""
from __future__ import annotations

import pytest

from tests.integration.test_x12_sink import D, claim, publish, query, run, settings_for
from tests.sent837 import read_back

pytestmark = pytest.mark.e2e


def test_each_claim_version_goes_out_once_and_a_secondary_goes_out_as_secondary(
        fresh_topics, database_url, tmp_path):
    settings, out = settings_for(fresh_topics, database_url), tmp_path / "outbox"
    v1 = claim(1)
    v2 = {**claim(1), "event_id": "ev-1b:claim:v2", "source_event_id": "ev-1b", "version": 2,
          "frequency_code": "7", "original_reference": "ICN42"}
    secondary = {**claim(2), "claim_id": "CLM-E0000002-S", "payer_id": "MEDICAID",
                 "plan_type": "MEDICAID", "payer_sequence": "SECONDARY",
                 "primary_claim_id": "CLM-E0000002",
                 "other_payer": {"payer_id": "MEDICARE", "plan_type": "MEDICARE",
                                 "claim_id": "CLM-E0000002", "payer_claim_control_number": "ICN7",
                                 "adjudicated_on": D, "paid_cents": 9000,
                                 "patient_responsibility_cents": 2000,
                                 "adjustments": [{"group_code": "CO", "reason_code": "45",
                                                  "amount_cents": 3502},
                                                 {"group_code": "PR", "reason_code": "2",
                                                  "amount_cents": 2000}]}}
    publish(fresh_topics, [v1])
    assert run(settings, out) == 1
    publish(fresh_topics, [v2, v1, secondary, v2])  # v1 and v2 redelivered
    assert run(settings, out) == 1
    texts = [p.read_text() for p in sorted(out.iterdir())]
    second = read_back(texts[1]).claims
    assert [(c["claim_id"], c["frequency_code"], c["payer_sequence"])
            for c in second] == [("CLM-E0000001", "7", "PRIMARY"), ("CLM-E0000002-S", "1", "SECONDARY")]
    assert second[0]["original_reference"] == "ICN42"
    assert second[1]["other_payer"] == {
        "payer_id": "MEDICARE", "plan_type": "MEDICARE", "payer_claim_control_number": "ICN7",
        "adjudicated_on": D, "paid_cents": 9000, "patient_responsibility_cents": 2000,
        "adjustments": [{"group_code": "CO", "reason_code": "45", "amount_cents": 3502},
                        {"group_code": "PR", "reason_code": "2", "amount_cents": 2000}]}
    assert "SBR*S*18" in texts[1]
    assert query(database_url, "SELECT claim_id, version FROM x12_claims_sent ORDER BY 1, 2") == [
        ("CLM-E0000001", 1), ("CLM-E0000001", 2), ("CLM-E0000002-S", 1)]
