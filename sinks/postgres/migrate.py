"""Apply sinks/postgres/migrations/*.sql in name order, each once, each in its own transaction.

Applied files are recorded in `schema_migrations`. A session advisory lock serialises two processes
that start at the same time (the sink and a test, or two sinks), so neither applies a file twice.
"""
from __future__ import annotations

import logging
from importlib import resources

import psycopg2

log = logging.getLogger(__name__)

# Any fixed 64-bit key; it only has to differ from other advisory locks taken in the same database.
LOCK_KEY = 0x52434D5F4D494752  # "RCM_MIGR"


def migration_files() -> list[tuple[str, str]]:
    folder = resources.files("sinks.postgres").joinpath("migrations")
    files = sorted(p for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(p.name, p.read_text()) for p in files]


def apply_migrations(dsn: str) -> list[str]:
    """Return the names of the files applied now (empty when the schema is current)."""
    conn = psycopg2.connect(dsn)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
            try:
                return _apply_pending(conn)
            finally:
                cur.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    finally:
        conn.close()


def _apply_pending(conn) -> list[str]:
    with conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT clock_timestamp())")
        cur.execute("COMMENT ON TABLE schema_migrations IS"
                    " 'Migration files applied to this database, by file name.'")
        cur.execute("SELECT name FROM schema_migrations")
        done = {row[0] for row in cur.fetchall()}
    applied = []
    conn.autocommit = False
    try:
        for name, sql in migration_files():
            if name in done:
                continue
            with conn.cursor() as cur:
                cur.execute(sql)
                cur.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (name,))
            conn.commit()
            applied.append(name)
            log.info("applied migration %s", name)
    except Exception:
        conn.rollback()
        raise
    finally:
        conn.autocommit = True
    return applied
