"""`rcm sink-x12` against real Kafka and PostgreSQL: files pyx12 accepts, control numbers never
reused across restarts, a redelivered claim never written twice, HELD and self-pay claims kept back."""
from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime

import psycopg2
import pytest
from kafka import KafkaProducer

from infra.settings import Settings
from schemas import codec
from schemas.topics import CLAIMS
from sinks.x12.service import group_of, run_sink_x12
from sinks.x12.validate import validate
from tests.sent837 import carried, read_back
from tests.support.kafka_client import kafka_options

pytestmark = pytest.mark.e2e

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
D = date(2026, 3, 2)


def claim(n: int, claim_type: str = "PROFESSIONAL", status: str = "CLEAN",
          plan_type: str = "COMMERCIAL", payer_id: str = "COMM-ACME") -> dict:
    inpatient = claim_type == "INSTITUTIONAL" and n % 2 == 0
    return {
        "event_id": f"ev-{n}:claim", "source_event_id": f"ev-{n}", "source_emitted_at": T0,
        "claim_id": f"CLM-E{n:07d}", "encounter_id": f"E{n:07d}", "account_id": f"A{n:010d}",
        "occurred_at": T0, "claim_type": claim_type, "payer_id": payer_id, "plan_type": plan_type,
        "billing_provider_npi": "1234567893", "facility_id": "HOSP-01", "service_start": D,
        "service_end": D, "diagnosis_codes": ["E11.9", "I10"],
        "lines": [{"line": 1, "procedure_code": "99213", "modifiers": [], "revenue_code": "0510",
                   "units": 1, "charge_cents": 14500 + n, "service_date": D,
                   "diagnosis_pointers": [1, 2]}],
        "total_charge_cents": 14500 + n, "status": status,
        "edits": [] if status == "CLEAN" else [{"edit": "INVALID_CODE", "message": "x", "line": None}],
        "warnings": [], "pcs_codes": ["0DTJ4ZZ"] if inpatient else [],
        "drg": {"drg": "343", "mdc": "06", "description": None, "grouper_version": "430"}
        if inpatient else None,
    }


def publish(bootstrap: str, claims: list[dict]) -> None:
    producer = KafkaProducer(**kafka_options(bootstrap), acks="all")
    for c in claims:
        producer.send(CLAIMS.name, key=codec.key_of(CLAIMS, c),
                      value=codec.encode(CLAIMS.value_schema, c))
    producer.flush()
    producer.close()


def settings_for(bootstrap: str, dsn: str) -> Settings:
    return dataclasses.replace(Settings(), kafka_bootstrap_servers=bootstrap, database_url=dsn,
                               sink_group="x12-test")


def query(dsn: str, sql: str, args=()) -> list[tuple]:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            rows = cur.fetchall()
        conn.commit()
        return rows
    finally:
        conn.close()


def run(settings, out) -> int:
    return run_sink_x12(settings, out=out, batch_size=100, max_wait_s=0.5, idle_exit_s=3)


def read_files(out) -> dict[str, list[str]]:
    """{file name: claim ids} for every file in the outbox, each checked with pyx12 first."""
    found = {}
    for path in sorted(out.iterdir()):
        assert not path.name.startswith("."), f"temporary file left behind: {path.name}"
        text = path.read_text()
        assert validate(text).errors == [], path.name
        found[path.name] = [c["claim_id"] for c in read_back(text).claims]
    return found


def test_the_sink_writes_clean_claims_once_with_control_numbers_never_reused(
        fresh_topics, database_url, tmp_path):
    settings, out = settings_for(fresh_topics, database_url), tmp_path / "outbox"
    first = [claim(1), claim(2), claim(3, "INSTITUTIONAL"), claim(4, "INSTITUTIONAL"),
             claim(5, status="HELD"), claim(6, plan_type="SELF_PAY", payer_id="SELFPAY")]
    publish(fresh_topics, first)
    assert run(settings, out) == 2
    files = read_files(out)
    assert sorted(sorted(ids) for ids in files.values()) == [["CLM-E0000001", "CLM-E0000002"],
                                      ["CLM-E0000003", "CLM-E0000004"]]
    assert sorted(n[:4] for n in files) == ["837I", "837P"]
    # each claim as the 837-in reader reads it: lines, units, charges, codes, pointers, account
    sent = {c["claim_id"]: c for p in out.iterdir() for c in read_back(p.read_text()).claims}
    assert sent == {c["claim_id"]: carried(c) for c in first[:4]}

    # restart: new claims, and claim 2 again (a redelivery)
    publish(fresh_topics, [claim(7), claim(2), claim(8, "INSTITUTIONAL", status="HELD")])
    assert run(settings, out) == 1
    files = read_files(out)
    assert sum(ids.count("CLM-E0000002") for ids in files.values()) == 1
    assert sorted(i for ids in files.values() for i in ids) == [
        "CLM-E0000001", "CLM-E0000002", "CLM-E0000003", "CLM-E0000004", "CLM-E0000007"]

    # offsets lost: everything is read again, nothing is written again
    assert query(database_url, "DELETE FROM sink_offsets WHERE consumer_group = %s RETURNING 1",
                 (group_of(settings),))
    assert run(settings, out) == 0 and len(read_files(out)) == 3

    rows = query(database_url, "SELECT file_name, isa13, gs06, st02, claim_count,"
                 " total_charge_cents FROM x12_files ORDER BY isa13")
    assert [r[1] for r in rows] == [1, 2, 3]  # increasing, never reused across the restarts
    assert [(r[2], r[3]) for r in rows] == [(1, 1), (2, 2), (3, 3)]
    for name, isa13, *_ in rows:
        parsed = read_back((out / name).read_text())
        assert int(parsed.isa13) == isa13
    assert sum(r[5] for r in rows) == sum(14500 + n for n in (1, 2, 3, 4, 7))
    assert query(database_url, "SELECT count(*) FROM x12_claims_sent") == [(5,)]
    assert query(database_url, "SELECT last_isa13 FROM x12_control_numbers") == [(3,)]


def test_control_numbers_allocated_before_a_crash_are_skipped_not_reused(
        fresh_topics, database_url, tmp_path):
    settings, out = settings_for(fresh_topics, database_url), tmp_path / "outbox"
    # a crash after allocating number 1 but before its file committed: the number is gone
    query(database_url, "INSERT INTO x12_control_numbers (sender_id, receiver_id, last_isa13,"
          " last_gs06, last_st02) VALUES (%s, %s, 1, 1, 1) RETURNING 1",
          (settings.x12_sender_id, settings.x12_receiver_id))
    out.mkdir()
    orphan = out / ".837P_RCMSYNTH_CLEARINGHOUSE_000000001.x12.tmp"
    orphan.write_text("ISA...")
    publish(fresh_topics, [claim(11)])
    assert run(settings, out) == 1
    assert not orphan.exists()
    assert list(read_files(out)) == ["837P_RCMSYNTH_CLEARINGHOUSE_000000002.x12"]


def test_rcm_sink_x12_runs_as_a_command_and_stops_on_sigterm(fresh_topics, database_url, tmp_path):
    out = tmp_path / "outbox"
    publish(fresh_topics, [claim(21), claim(22, "INSTITUTIONAL")])
    env = dict(os.environ, RCM_KAFKA_BOOTSTRAP_SERVERS=fresh_topics, RCM_DATABASE_URL=database_url,
               RCM_SINK_GROUP="x12-cli-test")
    proc = subprocess.Popen([sys.executable, "-m", "infra.cli", "sink-x12", "--out", str(out),
                             "--batch-size", "10", "--max-wait", "0.5"], env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(list(out.glob("*.x12"))) < 2:
            time.sleep(0.2)
        assert len(list(out.glob("*.x12"))) == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    assert sorted(i for ids in read_files(out).values() for i in ids) == [
        "CLM-E0000021", "CLM-E0000022"]


def test_a_file_pyx12_rejects_is_neither_written_nor_committed(fresh_topics, database_url, tmp_path):
    from sinks.x12.directory import PlaceholderDirectory
    from sinks.x12.service import InvalidFile

    settings, out = settings_for(fresh_topics, database_url), tmp_path / "outbox"
    good = PlaceholderDirectory.from_settings(settings)

    class BadGender(PlaceholderDirectory):
        def subscriber(self, account_id, payer_id):
            return dataclasses.replace(good.subscriber(account_id, payer_id), gender="X")

    publish(fresh_topics, [claim(31)])
    with pytest.raises(InvalidFile, match="errors"):
        run_sink_x12(settings, out=out, batch_size=1, max_wait_s=0, idle_exit_s=3,
                     directory=BadGender(good.provider))
    assert not out.exists() or list(out.iterdir()) == []
    assert query(database_url, "SELECT count(*) FROM x12_files") == [(0,)]
    assert query(database_url, "SELECT count(*) FROM sink_offsets") == [(0,)]
    assert run(settings, out) == 1  # with a sound directory the claim goes out
