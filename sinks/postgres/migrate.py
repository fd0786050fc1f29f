"""Bring a database to the tree's schema: numbered migrations once each, then every views file.

- `migrations/NNNN_*.sql` change tables and data. Each is applied once, in name order, and recorded in `schema_migrations` with the SHA-256 of its text. A file that was
  applied and has changed since (a landed migration edited in place) stops the migrate with
  `MigrationDrift`, naming the file: the database would silently keep the old SQL otherwise.
- `views/*.sql` define every view and function, one definition each, with CREATE OR REPLACE. They
  are applied on every migrate, in name order, after the migrations. When a migration is pending,
  the views and functions they define are dropped first, so a migration only ever sees tables (the
  same on a fresh database and on an old one) and a views file may change a view's columns.
- All of it runs in one transaction: a failing file leaves the database as it was.

A session advisory lock serialises two processes that start at the same time (the sink and a test,
or two sinks), so neither applies a file twice. docs/operations.md, "Migrations and views", has the
rules for writing both.
"""
from __future__ import annotations

import hashlib
import logging
import re
from importlib import resources

import psycopg2

log = logging.getLogger(__name__)

# Any fixed 64-bit key; it only has to differ from other advisory locks taken in the same database.
LOCK_KEY = 0x52434D5F4D494752  # "RCM_MIGR"

_DEFINES = re.compile(r"^\s*CREATE\s+OR\s+REPLACE\s+(VIEW|FUNCTION)\s+([\w.]+)",
                      re.IGNORECASE | re.MULTILINE)


class MigrationDrift(RuntimeError):
    """The database recorded a migration file that the tree no longer has, or has changed."""


def checksum(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()


def _sql_files(folder: str) -> list[tuple[str, str]]:
    root = resources.files("sinks.postgres").joinpath(folder)
    files = sorted(p for p in root.iterdir() if p.name.endswith(".sql"))
    return [(p.name, p.read_text()) for p in files]


def migration_files() -> list[tuple[str, str]]:
    return _sql_files("migrations")


def view_files() -> list[tuple[str, str]]:
    return _sql_files("views")


def defined_objects(files: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(kind, name) of every view and function the views files define, in file order."""
    return [(m.group(1).upper(), m.group(2)) for _, sql in files for m in _DEFINES.finditer(sql)]


def apply_migrations(dsn: str) -> list[str]:
    """Return the names of the migration files applied now (empty when the tables are current).
    Raises MigrationDrift, applying nothing, when an applied file changed."""
    conn = psycopg2.connect(dsn)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
            try:
                return _migrate(conn)
            finally:
                cur.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    finally:
        conn.close()


def _applied(conn, files: dict[str, str]) -> set[str]:
    """Names already applied, after checking each against its file. A row recorded before
    checksums existed takes the checksum of the file as it is now."""
    with conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT clock_timestamp())")
        cur.execute("ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text")
        cur.execute("COMMENT ON TABLE schema_migrations IS 'Migration files applied to this"
                    " database: file name and SHA-256 of its text when applied.'")
        cur.execute("SELECT name, checksum FROM schema_migrations ORDER BY name")
        rows = cur.fetchall()
    for name, recorded in rows:
        if name not in files:
            raise MigrationDrift(
                f"migration {name} was applied to this database but is not in "
                f"sinks/postgres/migrations/: the database is ahead of, or apart from, this tree")
        if recorded is not None and recorded != checksum(files[name]):
            raise MigrationDrift(
                f"migration {name} changed after it was applied (recorded sha256 {recorded[:12]}, "
                f"file {checksum(files[name])[:12]}): restore the file as it landed and put the "
                f"change in a new migration")
    with conn.cursor() as cur:
        for name, recorded in rows:
            if recorded is None:
                cur.execute("UPDATE schema_migrations SET checksum = %s WHERE name = %s",
                            (checksum(files[name]), name))
                log.info("recorded the checksum of migration %s, applied before checksums", name)
    return {name for name, _ in rows}


def _migrate(conn) -> list[str]:
    files = migration_files()
    views = view_files()
    done = _applied(conn, dict(files))
    pending = [(name, sql) for name, sql in files if name not in done]
    conn.autocommit = False
    try:
        if pending:
            with conn.cursor() as cur:
                for kind, name in reversed(defined_objects(views)):
                    cur.execute(f"DROP {kind} IF EXISTS {name} CASCADE")
        for name, sql in pending:
            with conn.cursor() as cur:
                cur.execute(sql)
                cur.execute("INSERT INTO schema_migrations (name, checksum) VALUES (%s, %s)",
                            (name, checksum(sql)))
            log.info("applied migration %s", name)
        with conn.cursor() as cur:
            for _, sql in views:
                cur.execute(sql)
        conn.commit()
    except Exception:
        conn.rollback()
        raise
    finally:
        conn.autocommit = True
    return [name for name, _ in pending]
