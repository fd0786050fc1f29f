"""The sink and claim versions against a real PostgreSQL: `claims` keeps the latest version,
`claim_versions` every build once, `claim_transitions` the corrected, voided and secondary rows."""
from __future__ import annotations

import psycopg2
import pytest

from sinks.postgres.writer import write_batch
from tests.integration.test_sink_writer import GROUP, as_records, claim, query

pytestmark = pytest.mark.integration


def version(n: int, v: int, frequency: str, **over) -> dict:
    rec = {**claim(n, status="CLEAN"), "version": v, "frequency_code": frequency,
           "original_reference": "ICN1" if frequency != "1" else None,
           "payer_sequence": "PRIMARY", "primary_claim_id": None, "secondary_payer_id": None,
           "other_payer": None}
    if v > 1:
        rec["event_id"] = f"{rec['source_event_id']}-{v}:claim:v{v}"
        rec["source_event_id"] = f"{rec['source_event_id']}-{v}"
    return {**rec, **over}


@pytest.fixture
def conn(database_url):
    c = psycopg2.connect(database_url)
    yield c
    c.close()


def test_claims_keep_the_latest_version_and_versions_every_build_once(conn, database_url):
    v1, v2, v3 = version(501, 1, "1"), version(501, 2, "7", total_charge_cents=33000), version(501, 3, "8")
    secondary = {**version(502, 1, "1"), "claim_id": "CLM-E0000502-S", "payer_id": "MEDICAID",
                 "plan_type": "MEDICAID", "payer_sequence": "SECONDARY",
                 "primary_claim_id": "CLM-E0000502", "event_id": "rem-9:secondary",
                 "source_event_id": "rem-9"}
    write_batch(conn, GROUP, as_records("claims", "ClaimBuilt", [v1, v2], start=0))
    write_batch(conn, GROUP, as_records("claims", "ClaimBuilt", [v1, v2], start=2))  # redelivered
    assert query(database_url, "select version, frequency_code, total_charge_cents, original_reference"
                               " from claims where claim_id = 'CLM-E0000501'") == [(2, "7", 33000, "ICN1")]
    write_batch(conn, GROUP, as_records("claims", "ClaimBuilt", [v3, v1, secondary], start=4))
    assert query(database_url, "select version, frequency_code from claims"
                               " where claim_id = 'CLM-E0000501'") == [(3, "8")]
    assert query(database_url, "select claim_id, version, frequency_code, payer_sequence"
                               " from claim_versions order by claim_id, version") == [
        ("CLM-E0000501", 1, "1", "PRIMARY"), ("CLM-E0000501", 2, "7", "PRIMARY"),
        ("CLM-E0000501", 3, "8", "PRIMARY"), ("CLM-E0000502-S", 1, "1", "SECONDARY")]
    assert query(database_url, "select claim_id, status, version, source_event_id"
                               " from claim_transitions order by claim_id, version") == [
        ("CLM-E0000501", "CORRECTED", 2, "enc-evt-501-2"),
        ("CLM-E0000501", "VOIDED", 3, "enc-evt-501-3"),
        ("CLM-E0000502", "SECONDARY_BILLED", 1, "rem-9")]
    # ... and they are steps of the claim's one status history, not new claims
    assert query(database_url, "select claim_id, status from claim_status_history where claim_id"
                               " like 'CLM-E000050%%' order by 1, 2") == [
        ("CLM-E0000501", "CORRECTED"), ("CLM-E0000501", "CREATED"), ("CLM-E0000501", "VOIDED"),
        ("CLM-E0000502", "SECONDARY_BILLED"), ("CLM-E0000502-S", "CREATED")]


def test_an_old_claim_record_without_version_fields_is_version_1(conn, database_url):
    write_batch(conn, GROUP, as_records("claims", "ClaimBuilt", [claim(503)], start=10))
    assert query(database_url, "select version, frequency_code, payer_sequence from claims"
                               " where claim_id = 'CLM-E0000503'") == [(1, "1", "PRIMARY")]
