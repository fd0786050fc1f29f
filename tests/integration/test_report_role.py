"""The commands that only read connect as rcm_report, not the owner (issue 12): `rcm report`, `rcm
demo`'s summary and reconciliation, the drain watchers' sink offsets. The role reads every
pipeline table and writes none."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
from psycopg2 import errors

from infra import pipeline, report

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
ACCOUNT = "A0000000018"


def rows(dsn: str, sql: str, params=()) -> list[tuple]:
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


@pytest.fixture
def settings(services, database_url):
    """The session's settings on a fresh database holding one account: charged 145.00, paid 100.00."""
    rows(database_url, """
        INSERT INTO ledger_entries (entry_id, account_id, kind, insurance_delta_cents,
            patient_delta_cents, posted_at, reference, source_event_id, source_emitted_at)
        VALUES ('le-1', %(a)s, 'CHARGE', 14500, 0, %(t)s, 'CLM-1', 'ev-1', %(t)s),
               ('le-2', %(a)s, 'PAYER_PAYMENT', -10000, 0, %(t)s, 'R1', 'r-1', %(t)s);
        INSERT INTO account_balances (account_id, insurance_cents, patient_cents, total_cents,
            charges_cents, payments_cents, entries)
        VALUES (%(a)s, 4500, 0, 4500, 14500, -10000, 2)""", {"a": ACCOUNT, "t": NOW})
    return replace(services.settings, database_url=database_url)


def rcm(settings, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "infra.cli", *args], capture_output=True, text=True,
                          env={**pipeline.child_env(settings), **env}, timeout=120, check=False)


def test_the_report_role_reads_and_cannot_write(settings):
    dsn = settings.report_dsn
    assert urlsplit(dsn).username == "rcm_report"
    assert rows(dsn, "select total_cents from account_balances") == [(4500,)]
    for statement in ("insert into account_balances (account_id) values ('A0000000026')",
                      "update account_balances set total_cents = 0, insurance_cents = 0",
                      "delete from ledger_entries",
                      "truncate account_balances",
                      "insert into console_users (username, role, password_hash) values ('x', 'admin', 'x')",
                      "create table mine (x int)"):
        with pytest.raises(errors.InsufficientPrivilege):
            rows(dsn, statement)
    assert rows(settings.dsn, "select total_cents from account_balances") == [(4500,)]


def test_rcm_report_and_the_demo_summary_work_as_the_report_role(settings):
    done = rcm(settings, "report", "--json", "--as-of", "2026-03-02")
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["as_of"] == "2026-03-02" and got["kpis"]
    # it connects with the report role's DSN, not the owner's: a role that cannot log in fails it
    nobody = urlunsplit(urlsplit(settings.report_dsn)._replace(
        netloc=f"rcm_nobody@127.0.0.1:{urlsplit(settings.report_dsn).port}"))
    refused = rcm(settings, "report", "--json", RCM_REPORT_DATABASE_URL=nobody)
    assert refused.returncode == 1 and "cannot read PostgreSQL" in refused.stderr

    summary = report.summary(settings.report_dsn)
    assert (summary["charges"], summary["payments"], summary["total"]) == (14500, -10000, 4500)
    truth = {"accounts": {ACCOUNT: {"insurance_cents": 4500, "patient_cents": 0, "total_cents": 4500}}}
    assert report.reconcile(settings.report_dsn, truth) == []
    assert pipeline.lag(settings).sink >= 0  # the sink's offsets, read as rcm_report


def test_rcm_status_works_without_the_owner(settings):
    """`rcm status` reads offsets and group metadata from Kafka and /readyz, no PostgreSQL at all:
    it still works with the owner's DSN naming a role that does not exist."""
    nobody = urlunsplit(urlsplit(settings.dsn)._replace(
        netloc=f"rcm_nobody@127.0.0.1:{urlsplit(settings.dsn).port}"))
    done = rcm(settings, "status", "--json", "--interval", "0", RCM_DATABASE_URL=nobody)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert {t["topic"] for t in got["topics"]} >= {"encounters", "claims"}


def test_rcm_produce_decisions_and_rcm_rules_read_as_the_report_role(settings):
    """The simulated coding team's queue and the proposed scrub rules are read as rcm_report: both
    commands work with the owner's DSN naming a role that does not exist."""
    rows(settings.dsn, """
        INSERT INTO coding_review (review_id, encounter_id, account_id, payer_id, encounter_class,
            total_charge_cents, reasons, suggestions, requested_at, source_event_id,
            source_emitted_at, patient_age, patient_sex, date_of_service)
        VALUES ('rev-1', 'E7001', %(a)s, 'MEDICARE', 'OFFICE', 14500, array['dx 1: no code fits'],
                %(s)s, %(t)s, 'enc-7001', %(t)s, 58, 'F', %(t)s);
        INSERT INTO proposed_scrub_rules (rule_id, payer_id, reason_code, procedure_code, category,
            preventable, denial_count, denied_cents, threshold, first_denied_on, last_denied_on,
            event_id, source_emitted_at)
        VALUES ('AETNA/197/99213', 'AETNA', '197', '99213', 'AUTHORIZATION', true, 5, 60000, 5,
                %(t)s, %(t)s, 'AETNA/197/99213:proposed', %(t)s)""",
         {"a": ACCOUNT, "t": NOW, "s": json.dumps([
             {"sequence": 1, "text": "essential hypertension", "code": "I10", "confidence": 0.97,
              "also": []}])})
    nobody = urlunsplit(urlsplit(settings.dsn)._replace(
        netloc=f"rcm_nobody@127.0.0.1:{urlsplit(settings.dsn).port}"))
    env = {"RCM_DATABASE_URL": nobody, "RCM_REPORT_DATABASE_URL": settings.report_dsn}
    decided = rcm(settings, "produce", "decisions", "--coder-id", "C1", "--dry-run", **env)
    assert decided.returncode == 0, decided.stderr
    assert "rev-1:decision" in decided.stdout and "E7001" in decided.stdout
    listed = rcm(settings, "rules", "list", "--json", **env)
    assert listed.returncode == 0, listed.stderr
    assert [json.loads(line)["rule_id"] for line in listed.stdout.splitlines()] == ["AETNA/197/99213"]
