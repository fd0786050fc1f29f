"""The sink writer against a real PostgreSQL: idempotent, atomic, balances exact to the cent."""
from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime

import psycopg2
import pytest

from processors.denials.rules import flag_denials
from processors.ledger.rules import (
    entries_for_encounter,
    entries_for_payment,
    entries_for_remittance,
    journals,
)
from schemas.accounts import make_account_id
from sinks.postgres import writer
from sinks.postgres.migrate import apply_migrations
from sinks.postgres.writer import SinkRecord, write_batch
from tests import factories as f

pytestmark = pytest.mark.integration
GROUP = "test-sink"
T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


def as_records(topic, schema, values, partition=0, start=0):
    return [SinkRecord(topic, partition, start + i, schema, v) for i, v in enumerate(values)]


def ledger_for(n):
    return (entries_for_encounter(f.encounter(n)) + entries_for_remittance(f.remittance(n))
            + entries_for_payment(f.payment(n, cents=500)) + entries_for_payment(
                f.payment(n + 100000, cents=200, kind="REFUND", account_id=make_account_id(n))))


def claim(n, status="HELD"):
    return {
        "event_id": f"enc-evt-{n}:claim", "source_event_id": f"enc-evt-{n}", "source_emitted_at": T0,
        "claim_id": f"CLM-E{n:07d}", "encounter_id": f"E{n:07d}", "account_id": make_account_id(n),
        "occurred_at": T0, "claim_type": "PROFESSIONAL", "payer_id": "COMM-ACME",
        "plan_type": "COMMERCIAL", "billing_provider_npi": "1234567893", "facility_id": "FAC01",
        "service_start": date(2026, 3, 2), "service_end": date(2026, 3, 2),
        "diagnosis_codes": ["I10"],
        "lines": [{"line": 1, "procedure_code": "99213", "modifiers": [], "revenue_code": "0510",
                   "units": 1, "charge_cents": 14500, "service_date": date(2026, 3, 2),
                   "diagnosis_pointers": [1]}],
        "total_charge_cents": 14500, "status": status,
        "edits": [{"edit": "DX_POINTER", "message": "line 1 points nowhere", "line": 1}]
        if status == "HELD" else [],
    }


def review(n):
    return {
        "event_id": f"enc-evt-{n}:review", "source_event_id": f"enc-evt-{n}", "source_emitted_at": T0,
        "encounter_id": f"E{n:07d}", "account_id": make_account_id(n), "occurred_at": T0,
        "payer_id": "COMM-ACME", "encounter_class": "OFFICE", "total_charge_cents": 1000 * n,
        "reasons": ["statement 1 is too vague to code"],
        "suggestions": [{"sequence": 1, "text": "feels unwell", "code": None, "confidence": 0.2}],
    } | ({"patient_age": 40 + n, "patient_sex": "F", "date_of_service": T0.date()} if n % 2 == 0
         else {})  # odd ones as written before reviews carried them


def dead_letter(offset):
    return {"event_id": f"encounters:0:{offset}:coding", "source_topic": "encounters",
            "source_partition": 0, "source_offset": offset, "stage": "coding", "error": "MALFORMED",
            "reason": "record of 3 bytes has no wire header", "key": None, "payload": b"\x00\x01\x02",
            "dead_lettered_at": T0}


def mixed_batch():
    denial_remit = f.remittance(7, lines=[
        {"line": 1, "procedure_code": "99213", "units": 1, "charge_cents": 14500, "paid_cents": 0,
         "adjustments": [f.adjustment("CO", "197", 14500)], "remarks": ["N54"]}], status="4")
    entries = ledger_for(1) + ledger_for(2) + entries_for_encounter(f.encounter(7)) \
        + entries_for_remittance(denial_remit)
    return (as_records("ledger-entries", "LedgerEntriesPosted", journals(entries))
            + as_records("denials", "DenialFlagged", flag_denials(denial_remit))
            + as_records("claims", "ClaimBuilt", [claim(1, "CLEAN"), claim(2)], partition=1)
            + as_records("coding-review", "CodingReviewRequested", [review(3), review(4)])
            + as_records("dead-letters", "DeadLetter", [dead_letter(9)]))


def query(dsn, sql, *args):
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql, args)
        rows = cur.fetchall()
    conn.close()
    return rows


def snapshot(dsn):
    return {t: query(dsn, f"SELECT * FROM {t} ORDER BY 1") for t in (
        "ledger_entries", "account_balances", "denials", "claims", "coding_review", "dead_letters",
        "sink_offsets")}


@pytest.fixture
def conn(database_url):
    c = psycopg2.connect(database_url)
    yield c
    c.close()


def test_balances_are_the_sum_of_their_entries(conn, database_url):
    result = write_batch(conn, GROUP, mixed_batch())
    rows = query(database_url, """
        SELECT b.account_id, b.insurance_cents, b.patient_cents, b.total_cents, b.entries,
               sum(e.insurance_delta_cents), sum(e.patient_delta_cents), count(*)
        FROM account_balances b JOIN ledger_entries e USING (account_id)
        GROUP BY 1, 2, 3, 4, 5""")
    assert len(rows) == 3
    for _acct, ins, pat, total, n, sum_ins, sum_pat, count in rows:
        assert (ins, pat, n) == (sum_ins, sum_pat, count)
        assert total == ins + pat
    one = {b["account_id"]: b for b in result.balances}[make_account_id(1)]
    # charge 14500; payer paid 9000, CO-45 3500, PR-3 2000; patient paid 500, refunded 200
    assert (one["insurance_cents"], one["patient_cents"], one["total_cents"]) == (0, 1700, 1700)
    assert (one["charges_cents"], one["payments_cents"], one["adjustments_cents"]) == (14500, 9300, 3500)
    assert one["entries"] == 6
    denied = {b["account_id"]: b for b in result.balances}[make_account_id(7)]
    assert (denied["insurance_cents"], denied["patient_cents"]) == (14500, 0)


def test_applying_the_same_batch_twice_changes_nothing(conn, database_url):
    batch = mixed_batch()
    first = write_batch(conn, GROUP, batch)
    before = snapshot(database_url)
    second = write_batch(conn, GROUP, batch)
    assert snapshot(database_url) == before
    # a claim is a row of claims (its latest version) and one of claim_versions (every build)
    rows = sum(len(r.value["entries"]) if r.topic == "ledger-entries"
               else 2 if r.topic == "claims" else 1 for r in batch)
    assert sum(first.inserted.values()) == rows
    assert sum(second.inserted.values()) == 0 and second.balances == []
    assert writer.stored_offsets(conn, GROUP) == {
        ("ledger-entries", 0): len([r for r in batch if r.topic == "ledger-entries"]),
        ("denials", 0): 1, ("claims", 1): 2, ("coding-review", 0): 2, ("dead-letters", 0): 1}


def test_a_redelivered_entry_in_a_later_batch_is_not_counted_again(conn, database_url):
    entries = ledger_for(5)
    write_batch(conn, GROUP, as_records("ledger-entries", "LedgerEntriesPosted", journals(entries[:3])))
    # the processor sends the same entries again after its own crash: new offsets, same entry ids
    result = write_batch(conn, GROUP, as_records("ledger-entries", "LedgerEntriesPosted",
                                                 journals(entries), start=10))
    assert result.inserted["ledger_entries"] == len(entries) - 3
    [(ins, pat, n)] = query(database_url, "SELECT insurance_cents, patient_cents, entries"
                                          " FROM account_balances")
    assert (ins, pat, n) == (sum(e["insurance_delta_cents"] for e in entries),
                             sum(e["patient_delta_cents"] for e in entries), len(entries))


def test_offsets_never_move_backwards(conn):
    write_batch(conn, GROUP, as_records("denials", "DenialFlagged", [], start=0)
                + [SinkRecord("claims", 0, 41, "ClaimBuilt", claim(1))])
    write_batch(conn, GROUP, [SinkRecord("claims", 0, 3, "ClaimBuilt", claim(2))])
    assert writer.stored_offsets(conn, GROUP) == {("claims", 0): 42}


def test_records_below_the_stored_offset_are_skipped_in_the_same_transaction(conn, database_url):
    """Two sink processes after a rebalance: the one that lost the partition writes a batch the
    new owner already applied in part. Only the records past the stored offset go in."""
    entries = ledger_for(6)
    records = as_records("ledger-entries", "LedgerEntriesPosted", journals(entries))
    new_owner = write_batch(conn, GROUP, records[:2])
    old_owner = write_batch(conn, GROUP, records)
    assert new_owner.skipped == 0 and old_owner.skipped == 2
    assert sum(old_owner.inserted.values()) == sum(len(r.value["entries"]) for r in records[2:])
    assert writer.stored_offsets(conn, GROUP) == {("ledger-entries", 0): len(records)}
    assert write_batch(conn, GROUP, records).skipped == len(records)
    [(total, n)] = query(database_url, "SELECT total_cents, entries FROM account_balances")
    assert (total, n) == (sum(e["insurance_delta_cents"] + e["patient_delta_cents"]
                              for e in entries), len(entries))


def test_every_table_takes_its_rows_through_copy(conn, database_url):
    """Arrays, JSON, bytes and awkward text arrive as they were sent."""
    rec = claim(3)
    rec["diagnosis_codes"] = ['J18.9', 'a "quoted" \\ code', "x,y"]
    dead = dead_letter(5)
    dead["payload"], dead["key"] = b"\x00\t\\N\xff", None
    write_batch(conn, GROUP, [SinkRecord("claims", 0, 0, "ClaimBuilt", rec),
                              SinkRecord("dead-letters", 0, 5, "DeadLetter", dead)])
    assert query(database_url, "SELECT diagnosis_codes, lines = %s::jsonb FROM claims",
                 json.dumps(rec["lines"], default=str)) == [
        (rec["diagnosis_codes"], True)]
    [(payload, key)] = query(database_url, "SELECT payload, key FROM dead_letters")
    assert (bytes(payload), key) == (dead["payload"], None)


def test_a_failure_mid_batch_writes_nothing(conn, database_url, monkeypatch):
    empty = snapshot(database_url)

    def explode(*args, **kwargs):
        raise RuntimeError("power cut after the rows, before the offsets")

    real = writer.execute_values
    monkeypatch.setattr(writer, "execute_values",
                        lambda cur, sql, *a, **k: explode() if "sink_offsets" in sql else real(cur, sql, *a, **k))
    with pytest.raises(RuntimeError):
        write_batch(conn, GROUP, mixed_batch())
    assert snapshot(database_url) == empty
    monkeypatch.undo()
    write_batch(conn, GROUP, mixed_batch())
    assert snapshot(database_url)["account_balances"]


def test_a_row_the_database_refuses_rolls_back_the_whole_batch(conn, database_url):
    bad = claim(9)
    bad["status"] = "LOST"  # breaks the claims status check after the ledger rows went in
    with pytest.raises(psycopg2.IntegrityError):
        write_batch(conn, GROUP, mixed_batch() + [SinkRecord("claims", 1, 99, "ClaimBuilt", bad)])
    assert query(database_url, "SELECT count(*) FROM ledger_entries") == [(0,)]
    assert query(database_url, "SELECT count(*) FROM sink_offsets") == [(0,)]


def test_work_queue_views_order_by_what_to_work_first(conn, database_url):
    write_batch(conn, GROUP, mixed_batch())
    assert [r[0] for r in query(database_url, "SELECT encounter_id FROM coding_review_queue")] == [
        "E0000004", "E0000003"]
    assert query(database_url, "SELECT encounter_id, patient_age, patient_sex, date_of_service "
                               "FROM coding_review ORDER BY 1") == [
        ("E0000003", None, None, None), ("E0000004", 44, "F", T0.date())]
    assert [r[0] for r in query(database_url, "SELECT claim_id FROM held_claims")] == ["CLM-E0000002"]
    [(category, days_left, deadline)] = query(
        database_url, "SELECT category, days_left, appeal_deadline FROM denials_by_deadline")
    assert category == "AUTHORIZATION" and days_left == (deadline - date.today()).days


def test_every_table_and_column_is_commented(database_url):
    missing = query(database_url, """
        SELECT c.relname, a.attname FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE c.relkind = 'r' AND c.relname <> 'schema_migrations'
          AND col_description(c.oid, a.attnum) IS NULL""")
    assert missing == []
    assert query(database_url, """
        SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND relkind IN ('r', 'v') AND obj_description(c.oid) IS NULL""") == []


def test_migrations_are_idempotent(database_url):
    assert apply_migrations(database_url) == []
    names = [r[0] for r in query(database_url, "SELECT name FROM schema_migrations ORDER BY name")]
    assert names == sorted(names) and names[0].startswith("0001_")


def test_five_thousand_entries_write_in_one_round_of_statements(conn, database_url):
    entries = [e for n in range(1, 1300) for e in ledger_for(n)][:5000]
    started = time.perf_counter()
    result = write_batch(conn, GROUP, as_records("ledger-entries", "LedgerEntriesPosted", journals(entries)))
    elapsed = time.perf_counter() - started
    assert result.inserted["ledger_entries"] == 5000
    print(f"\nwriter: 5000 ledger entries in {elapsed * 1000:.0f} ms ({5000 / elapsed:,.0f} rows/s)")
    [(total,)] = query(database_url, "SELECT sum(total_cents) FROM account_balances")
    assert total == sum(e["insurance_delta_cents"] + e["patient_delta_cents"] for e in entries)


def test_awkward_text_survives_the_bulk_copy(conn, database_url):
    [entry] = entries_for_payment(f.payment(8))
    entry["reference"] = "P\t1\\N\nx\r\\"
    write_batch(conn, GROUP, as_records("ledger-entries", "LedgerEntriesPosted", journals([entry])))
    assert query(database_url, "SELECT reference, reason FROM ledger_entries") == [(entry["reference"], None)]


def coded(n, decision=None):
    rec = {
        "event_id": f"enc-evt-{n}:coded", "source_event_id": f"enc-evt-{n}", "source_emitted_at": T0,
        "encounter_id": f"E{n:07d}", "account_id": make_account_id(n), "occurred_at": T0,
        "patient_age": 50, "patient_sex": "F", "payer_id": "COMM-ACME", "plan_type": "COMMERCIAL",
        "provider_npi": "1234567893", "facility_id": "FAC01", "encounter_class": "OFFICE",
        "service_start": date(2026, 3, 2), "service_end": date(2026, 3, 2),
        "diagnoses": [{"sequence": i, "code": c, "confidence": 1.0, "evidence": "coder"}
                      for i, c in enumerate(decision["codes"] if decision else ["I10"], 1)],
        "procedures": [{"line": 1, "charge_code": "CM100113", "procedure_code": "99213",
                        "modifiers": [], "revenue_code": "0510", "units": 1, "charge_cents": 14500,
                        "service_date": date(2026, 3, 2)}],
        "procedures_pcs": [], "drg": None, "coded_by": None,
    }
    if decision:
        rec["coded_by"] = {"decision_id": f"dec-{n}", "coder_id": "CODER-07", "decided_at": T0,
                           "suggested": decision["suggested"]}
    return rec


def test_a_released_encounter_leaves_the_queue_and_feeds_the_coding_kpis(conn, database_url):
    write_batch(conn, GROUP, mixed_batch() + as_records("encounters-coded", "EncounterCoded", [
        coded(1), coded(2),
        coded(3, {"codes": ["R53.83", "I10"], "suggested": ["I10"]}),
        coded(5, {"codes": ["E11.9"], "suggested": ["E11.9"]})]))  # 5: decided before review
    write_batch(conn, GROUP, as_records("coding-review", "CodingReviewRequested", [review(5)],
                                        start=10))
    assert [r[0] for r in query(database_url, "SELECT encounter_id FROM coding_review_queue")] == [
        "E0000004"]
    assert query(database_url, "SELECT encounter_id, coder_id, kept, added, dropped "
                               "FROM coding_decisions ORDER BY 1") == [
        ("E0000003", "CODER-07", 1, 1, 0), ("E0000005", "CODER-07", 1, 0, 0)]
    [row] = query(database_url, "SELECT encounters, auto_coded, in_review, released, "
                                "auto_code_rate, decision_exact_agreement, code_agreement "
                                "FROM coding_kpis")
    # E1, E2 automatic; E3, E5 released; E4 waiting: 2/5 automatic, 1 of 2 decisions exact, 2/3 codes
    assert row[:4] == (5, 2, 1, 2)
    assert [float(x) for x in row[4:]] == [0.4, 0.5, round(2 / 3, 4)]


def test_denials_land_in_their_owner_queue(conn, database_url):
    write_batch(conn, GROUP, mixed_batch())
    [(queue, category, days_left)] = query(
        database_url, "SELECT owner_queue, category, days_left FROM denial_work_queue")
    assert (queue, category) == ("UTILIZATION_MANAGEMENT", "AUTHORIZATION") and days_left is not None
    [(queue, n, cents, preventable)] = query(
        database_url, "SELECT owner_queue, open_denials, open_cents, preventable "
                      "FROM denial_queue_summary")
    assert (queue, n, cents, preventable) == ("UTILIZATION_MANAGEMENT", 1, 14500, 1)


def test_claim_status_history_follows_the_claims_life(conn, database_url):
    write_batch(conn, GROUP, mixed_batch())
    later = f.remittance(1, lines=[{"line": 1, "procedure_code": "99213", "units": 1,
                                    "charge_cents": 14500, "paid_cents": 9000,
                                    "adjustments": [f.adjustment("CO", "45", 3500),
                                                    f.adjustment("CO", "197", 2000)],
                                    "remarks": []}])
    later["event_id"], later["occurred_at"] = "rem-evt-1b", datetime(2026, 3, 20, tzinfo=UTC)
    write_batch(conn, GROUP, as_records("ledger-entries", "LedgerEntriesPosted",
                                        journals(entries_for_remittance(later)), start=50)
                + as_records("denials", "DenialFlagged", flag_denials(later), start=50))
    history = query(database_url, "SELECT claim_id, status FROM claim_status_history "
                                  "WHERE claim_id IN ('CLM-E0000001', 'CLM-E0000002', 'CLM-E0000007')"
                                  " ORDER BY claim_id, at, step")
    # CLM-E1: built clean, paid in full (mixed batch), then paid in part with a denial;
    # CLM-E2: held at build, paid; CLM-E7: never built here, only denied.
    assert history == [("CLM-E0000001", "CREATED"), ("CLM-E0000001", "PAID"),
                       ("CLM-E0000001", "PARTIALLY_PAID"),
                       ("CLM-E0000002", "HELD"), ("CLM-E0000002", "PAID"),
                       ("CLM-E0000007", "DENIED")]
    assert query(database_url, "SELECT claim_id, status FROM claim_current_status ORDER BY 1") == [
        ("CLM-E0000001", "PARTIALLY_PAID"), ("CLM-E0000002", "PAID"), ("CLM-E0000007", "DENIED")]
