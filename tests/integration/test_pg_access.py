"""PostgreSQL authentication and least privilege (issue 12): SCRAM passwords, the sink's role, the
analyst's de-identified schema."""
from __future__ import annotations

import hashlib
import hmac
import stat
from datetime import UTC, date, datetime
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest

from infra import credentials

ANALYTICS_VIEWS = ["account_balances", "claims", "denials", "encounters", "ledger_entries"]
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def as_role(dsn: str, role: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(netloc=f"{role}@{parts.hostname}:{parts.port}"))


def without_passfile(dsn: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(query=""))


def rows(dsn: str, sql: str, params=()) -> list[tuple]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else []


@pytest.fixture
def filled(database_url):
    """One account with an encounter of a 93-year-old, a claim, a denial, two ledger entries."""
    rows(database_url, """
        INSERT INTO encounters_coded (event_id, encounter_id, account_id, payer_id, plan_type,
            encounter_class, patient_age, patient_sex, service_start, service_end, diagnoses,
            procedures, total_charge_cents, coded_at, source_event_id, source_emitted_at)
        VALUES ('ev-1:coded', 'E0000001', 'A0000000018', 'MEDICARE-A', 'MEDICARE', 'OFFICE', 93, 'F',
            '2026-03-01', '2026-03-01',
            '[{"sequence": 2, "code": "I10", "confidence": 0.9, "evidence": "Mrs Smith has HTN"},
              {"sequence": 1, "code": "E11.9", "confidence": 0.95, "evidence": "DM2"}]',
            '[{"line": 1, "procedure_code": "99213", "charge_cents": 14500}]', 14500, %(t)s, 'ev-1', %(t)s);
        INSERT INTO claims (claim_id, account_id, encounter_id, payer_id, plan_type, claim_type, status,
            total_charge_cents, service_start, service_end, built_at, source_event_id, source_emitted_at,
            diagnosis_codes)
        VALUES ('CLM-E0000001', 'A0000000018', 'E0000001', 'MEDICARE-A', 'MEDICARE', 'PROFESSIONAL',
            'CLEAN', 14500, '2026-03-01', '2026-03-01', %(t)s, 'ev-1', %(t)s, '{E11.9,I10}');
        INSERT INTO denials (denial_id, remittance_id, claim_id, account_id, payer_id, line, group_code,
            reason_code, category, preventable, amount_cents, denied_on, appeal_deadline,
            source_event_id, source_emitted_at)
        VALUES ('dn-1', 'R1', 'CLM-E0000001', 'A0000000018', 'MEDICARE-A', 1, 'CO', '197',
            'AUTHORIZATION', true, 4500, '2026-03-10', '2026-05-09', 'r-1', %(t)s);
        INSERT INTO ledger_entries (entry_id, account_id, kind, insurance_delta_cents,
            patient_delta_cents, posted_at, reference, source_event_id, source_emitted_at)
        VALUES ('le-1', 'A0000000018', 'CHARGE', 14500, 0, %(t)s, 'CLM-E0000001 Mrs Smith', 'ev-1', %(t)s),
               ('le-2', 'A0000000018', 'PAYER_PAYMENT', -10000, 0, %(t)s, 'R1', 'r-1', %(t)s);
        INSERT INTO account_balances (account_id, insurance_cents, total_cents, charges_cents,
            payments_cents, entries)
        VALUES ('A0000000018', 4500, 4500, 14500, 10000, 2);
        INSERT INTO dead_letters (event_id, source_topic, source_partition, source_offset, stage,
            error, reason, payload, dead_lettered_at)
        VALUES ('dl-1', 'encounters', 0, 7, 'coding', 'INVALID', 'bad', 'A0000000018', %(t)s);
    """, {"t": NOW})
    return database_url


def test_the_passwords_are_private_and_never_in_a_dsn(services):
    home = services.settings.home
    for path in (credentials.passwords_file(home), credentials.passfile(home)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(credentials.secrets_dir(home).stat().st_mode) == 0o700
    for password in credentials.passwords(home).values():
        assert password not in services.admin_dsn
        assert password not in services.settings.sink_dsn


@pytest.mark.parametrize("role", credentials.ROLES)
def test_a_role_without_its_password_or_with_a_wrong_one_is_refused(services, role):
    dsn = as_role(services.admin_dsn, role)
    rows(dsn, "select 1")  # with the password file it connects
    with pytest.raises(psycopg2.OperationalError, match="password"):
        psycopg2.connect(without_passfile(dsn), password="")
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(without_passfile(dsn), password="not-" + credentials.passwords(
            services.settings.home)[role])


def test_a_role_that_is_not_the_pipelines_is_refused(services, pg_admin_dsn):
    rows(pg_admin_dsn, "drop role if exists intruder")
    rows(pg_admin_dsn, "create role intruder login password 'intruder-pw'")
    try:
        with pytest.raises(psycopg2.OperationalError, match="no pg_hba.conf entry"):
            psycopg2.connect(without_passfile(as_role(pg_admin_dsn, "intruder")), password="intruder-pw")
    finally:
        rows(pg_admin_dsn, "drop role intruder")


def test_the_sink_role_writes_rows_but_cannot_drop_or_alter(filled):
    sink = as_role(filled, credentials.SINK)
    rows(sink, "update account_balances set entries = entries + 1")
    rows(sink, "insert into sink_offsets (consumer_group, topic, partition, next_offset) "
               "values ('g', 't', 0, 1)")
    for ddl in ("drop table ledger_entries", "alter table ledger_entries add column x int",
                "truncate ledger_entries", "create table public.mine (x int)",
                "select * from analytics_private.pseudonym_key"):
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            rows(sink, ddl)


@pytest.mark.parametrize("table", ["account_balances", "ledger_entries", "encounters_coded",
                                   "encounter_discharges", "dead_letters", "claims", "denials",
                                   "analytics_private.pseudonym_key"])
def test_the_analyst_cannot_read_identified_tables_or_the_key(filled, table):
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        rows(as_role(filled, credentials.ANALYST), f"select * from {table}")


def test_the_analyst_reads_every_analytics_view_de_identified(filled):
    analyst = as_role(filled, credentials.ANALYST)
    views = [r[0] for r in rows(analyst, "select table_name from information_schema.views "
                                         "where table_schema = 'analytics' order by 1")]
    assert views == ANALYTICS_VIEWS
    for view in views:
        text = repr(rows(analyst, f"select * from analytics.{view}"))
        assert "A0000000018" not in text and "E0000001" not in text and "Smith" not in text
        assert rows(analyst, f"select count(*) from analytics.{view}") != [(0,)]

    [(inner,)] = rows(filled, "select inner_pad from analytics_private.pseudonym_key")
    key = bytes(b ^ 0x36 for b in bytes(inner))
    expected = hmac.new(key, b"account:A0000000018", hashlib.sha256).hexdigest()
    [(account_key, age, sex, start, dx, px, cents)] = rows(analyst, """
        select account_key, age_group, patient_sex, service_start, diagnosis_codes, procedure_codes,
               total_charge_cents from analytics.encounters""")
    assert (account_key, age, sex, start, dx, px, cents) == (
        expected, "90+", "F", date(2026, 3, 1), ["E11.9", "I10"], ["99213"], 14500)
    assert rows(analyst, "select distinct account_key from analytics.ledger_entries") == [(expected,)]
    assert rows(analyst, "select sum(insurance_delta_cents) from analytics.ledger_entries") == [(4500,)]
    assert rows(analyst, "select account_key, total_cents from analytics.account_balances") == [
        (expected, 4500)]
    assert rows(analyst, "select c.claim_key = d.claim_key, d.reason_code, d.amount_cents "
                         "from analytics.claims c join analytics.denials d using (account_key)") == [
        (True, "197", 4500)]


def test_the_pseudonym_key_is_made_once_per_database(filled, database_url):
    before = rows(filled, "select account_key from analytics.account_balances")
    from infra.services import apply_migrations

    apply_migrations(filled)
    assert rows(filled, "select account_key from analytics.account_balances") == before
    assert rows(filled, "select count(*) from analytics_private.pseudonym_key") == [(1,)]


def test_a_cluster_that_trusted_everyone_is_switched_to_scram_by_the_next_start(tmp_path):
    import socket
    from dataclasses import replace

    from infra import postgres
    from infra.settings import Settings

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = replace(Settings(), home=tmp_path, postgres_port=port)
    postgres.start(settings)
    try:
        # What a cluster made before issue 12 looks like: trust for all, an owner with no password.
        rows(postgres.admin_dsn(settings, "postgres"), "alter role rcm password null")
        hba = postgres.data_dir(settings) / "pg_hba.conf"
        postgres._write_owned(settings, hba, "local all all trust\nhost all all 127.0.0.1/32 trust\n")
        postgres.stop(settings)
        postgres.start(settings)
        assert postgres.HBA_MARKER in hba.read_text()
        dsn = f"postgresql://rcm@127.0.0.1:{port}/postgres"
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            psycopg2.connect(dsn, password="wrong")
        assert rows(postgres.admin_dsn(settings, "postgres"),
                    "select rolname from pg_authid where rolname like 'rcm%%' "
                    "and rolpassword like 'SCRAM-SHA-256$%%' order by 1") == [(r,) for r in sorted(
                        credentials.ROLES)]
    finally:
        postgres.stop(settings)
