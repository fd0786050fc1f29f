"""A small psycopg2 pool: one connection per request, one transaction per call."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from psycopg2.pool import ThreadedConnectionPool


class Db:
    def __init__(self, dsn: str, size: int = 8):
        self.pool = ThreadedConnectionPool(1, size, dsn)

    @contextmanager
    def cursor(self) -> Iterator:
        conn = self.pool.getconn()
        broken = False
        try:
            with conn, conn.cursor() as cur:
                yield cur
        except Exception:
            broken = bool(conn.closed)
            raise
        finally:
            self.pool.putconn(conn, close=broken or bool(conn.closed))

    def rows(self, sql: str, args: tuple | dict = ()) -> list[dict]:
        with self.cursor() as cur:
            cur.execute(sql, args)
            if cur.description is None:
                return []
            names = [d.name for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def one(self, sql: str, args: tuple | dict = ()) -> dict | None:
        found = self.rows(sql, args)
        return found[0] if found else None

    def execute(self, sql: str, args: tuple | dict = ()) -> None:
        with self.cursor() as cur:
            cur.execute(sql, args)

    def close(self) -> None:
        self.pool.closeall()
