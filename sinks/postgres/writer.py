"""Write one batch of decoded records to PostgreSQL in one transaction, with the offsets it covers.

`prepare` (CPU only, no database: the sink runs it while the previous batch is being written)
turns records into one COPY stream per table. `write_prepared` then, in one transaction:
1. locks the batch's rows of `sink_offsets` and drops every record below the stored offset: it was
   applied already (by this process before a crash, or by another sink process that owned the
   partition), so a rebalance between processes neither doubles nor loses a record;
2. COPYs each table's rows into a session temp table and moves them with INSERT ... SELECT ...
   ON CONFLICT, so a redelivered record changes nothing. Only ledger entries that were actually
   inserted move `account_balances`, aggregated per account in SQL;
3. stores the batch's next offsets and queues the touched accounts in `balance_outbox`.
The effect and the progress commit together, which keeps balances exact to the cent.
"""
from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import psycopg2
from psycopg2.extras import execute_values

from sinks.postgres.tables import TABLE_OF_SCHEMA, TABLES, Table

SKIP = "Skip"  # a record the sink only passes over (its offset still moves): see service.py


@dataclass(frozen=True)
class SinkRecord:
    """A decoded record and where it was read. `schema` picks the table (DeadLetter for sink rejects)."""

    topic: str
    partition: int
    offset: int
    schema: str
    value: dict


@dataclass(frozen=True)
class BatchResult:
    inserted: dict[str, int] = field(default_factory=dict)  # table -> new rows
    balances: list[dict] = field(default_factory=list)  # AccountBalanceUpdated dicts, committed
    offsets: dict[tuple[str, int], int] = field(default_factory=dict)  # (topic, partition) -> next
    skipped: int = 0  # records below the stored offsets: applied before, not again


@dataclass(frozen=True)
class Prepared:
    """A batch ready to write: one COPY text per table, and the offsets it covers."""

    records: tuple[SinkRecord, ...]
    copies: dict[str, str]  # table -> COPY text format rows
    denial_ids: list[str]  # denials whose status may follow a step in this batch
    offsets: dict[tuple[str, int], int]  # (topic, partition) -> next offset
    first: dict[tuple[str, int], int]  # (topic, partition) -> lowest offset in the batch

# A denial's status and written-off amount follow its latest accepted step. Run for every denial
# a batch touched (its row or a step may come first, in separate batches), after both inserts.
_FOLLOW_DENIALS_SQL = """
UPDATE denials d SET status = lower(s.status), written_off_cents = d.amount_cents - s.open_cents
FROM (SELECT DISTINCT ON (denial_id) denial_id, status, open_cents FROM denial_events
      WHERE denial_id = ANY(%s) ORDER BY denial_id, version DESC) s
WHERE d.denial_id = s.denial_id
  AND (d.status, d.written_off_cents) IS DISTINCT FROM (lower(s.status), d.amount_cents - s.open_cents)
"""

# Inserted entries only (RETURNING), aggregated per account, added onto the stored balance. The
# upsert is a data-modifying CTE: PostgreSQL runs it once whether or not the SELECT reads it.
_LEDGER_SQL = """
WITH ins AS (
    INSERT INTO ledger_entries ({columns}) SELECT {columns} FROM pg_temp.ledger_entries_in
    ON CONFLICT (entry_id) DO NOTHING
    RETURNING account_id, kind, insurance_delta_cents + patient_delta_cents AS delta,
              insurance_delta_cents, patient_delta_cents
), per_account AS (
    SELECT account_id,
           sum(insurance_delta_cents) AS insurance, sum(patient_delta_cents) AS patient,
           sum(delta) FILTER (WHERE kind = 'CHARGE') AS charges,
           -sum(delta) FILTER (WHERE kind IN ('PAYER_PAYMENT', 'PATIENT_PAYMENT', 'PATIENT_REFUND'))
               AS payments,
           -sum(delta) FILTER (WHERE kind IN ('CONTRACTUAL_ADJUSTMENT', 'OTHER_ADJUSTMENT',
                                              'DENIAL_WRITE_OFF'))
               AS adjustments,
           count(*) AS n
    FROM ins GROUP BY account_id
), up AS (
    INSERT INTO account_balances AS b (account_id, insurance_cents, patient_cents, total_cents,
                                       charges_cents, payments_cents, adjustments_cents, entries,
                                       updated_at)
    SELECT account_id, insurance, patient, insurance + patient, coalesce(charges, 0),
           coalesce(payments, 0), coalesce(adjustments, 0), n, clock_timestamp()
    FROM per_account
    ON CONFLICT (account_id) DO UPDATE SET
        insurance_cents = b.insurance_cents + EXCLUDED.insurance_cents,
        patient_cents = b.patient_cents + EXCLUDED.patient_cents,
        total_cents = b.total_cents + EXCLUDED.total_cents,
        charges_cents = b.charges_cents + EXCLUDED.charges_cents,
        payments_cents = b.payments_cents + EXCLUDED.payments_cents,
        adjustments_cents = b.adjustments_cents + EXCLUDED.adjustments_cents,
        entries = b.entries + EXCLUDED.entries,
        updated_at = EXCLUDED.updated_at
    RETURNING 1
)
SELECT account_id, n FROM per_account
"""

_OFFSETS_SQL = """
INSERT INTO sink_offsets AS o (consumer_group, topic, partition, next_offset) VALUES %s
ON CONFLICT (consumer_group, topic, partition) DO UPDATE
SET next_offset = EXCLUDED.next_offset, updated_at = clock_timestamp()
WHERE EXCLUDED.next_offset > o.next_offset
"""

_BALANCE_COLUMNS = ("account_id", "insurance_cents", "patient_cents", "total_cents",
                    "charges_cents", "payments_cents", "adjustments_cents", "entries", "updated_at")


def next_offsets(records: Iterable[SinkRecord]) -> dict[tuple[str, int], int]:
    offsets: dict[tuple[str, int], int] = {}
    for rec in records:
        tp = (rec.topic, rec.partition)
        offsets[tp] = max(offsets.get(tp, 0), rec.offset + 1)
    return offsets


def prepare(records: Sequence[SinkRecord]) -> Prepared:
    """Rows per table (a key once: the first, as on redelivery; for `newer` tables the highest
    version), rendered as COPY text. No database work."""
    by_table: dict[str, dict[str, tuple]] = {}
    first: dict[tuple[str, int], int] = {}
    for rec in records:
        tp = (rec.topic, rec.partition)
        first[tp] = min(first.get(tp, rec.offset), rec.offset)
        if rec.schema == SKIP:
            continue
        names = TABLE_OF_SCHEMA[rec.schema]
        for table in (TABLES[n] for n in ((names,) if isinstance(names, str) else names)):
            rows = by_table.setdefault(table.name, {})
            for row in (table.row(rec.value) if table.many else (table.row(rec.value),)):
                if table.newer and row[0] in rows:  # a later version in the same batch wins
                    at = table.columns.index(table.newer)
                    if row[at] > rows[row[0]][at]:
                        rows[row[0]] = row
                    continue
                rows.setdefault(row[0], row)
    denial_ids = sorted({*by_table.get("denials", {}),
                         *(row[1] for row in by_table.get("denial_events", {}).values())})
    copies = {name: _copy_text(rows.values()) for name, rows in by_table.items() if rows}
    return Prepared(tuple(records), copies, denial_ids, next_offsets(records), first)


def write_batch(conn, group: str, records: Sequence[SinkRecord]) -> BatchResult:
    """Apply `records` and store their next offsets for `group` in one transaction; commit it."""
    return write_prepared(conn, group, prepare(records))


def write_prepared(conn, group: str, batch: Prepared) -> BatchResult:
    inserted: dict[str, int] = {}
    skipped = 0
    try:
        with conn.cursor() as cur:
            stored = _lock_offsets(cur, group, batch)
            if any(first < stored.get(tp, 0) for tp, first in batch.first.items()):
                kept = [r for r in batch.records
                        if r.offset >= stored.get((r.topic, r.partition), 0)]
                skipped = len(batch.records) - len(kept)
                batch = prepare(kept)
            touched: list[str] = []
            for name, text in batch.copies.items():
                table = TABLES[name]
                cur.copy_expert(f"COPY pg_temp.{name}_in ({', '.join(table.columns)}) FROM STDIN",
                                io.StringIO(text))
                if name == "ledger_entries":
                    inserted[name], touched = _insert_ledger(cur)
                    continue
                cur.execute(_insert_sql(table))
                if not table.companion:
                    inserted[name] = cur.rowcount
            if batch.denial_ids:
                cur.execute(_FOLLOW_DENIALS_SQL, (batch.denial_ids,))
            if batch.offsets:
                execute_values(cur, _OFFSETS_SQL,
                               [(group, t, p, o) for (t, p), o in sorted(batch.offsets.items())],
                               page_size=len(batch.offsets))
            balances = _balances(cur, touched)
            if touched:
                cur.execute("INSERT INTO balance_outbox (account_id) SELECT unnest(%s::text[])"
                            " ON CONFLICT DO NOTHING", (touched,))
        conn.commit()
    except BaseException:
        rollback(conn)
        raise
    return BatchResult(inserted, balances, batch.offsets, skipped)


def _lock_offsets(cur, group: str, batch: Prepared) -> dict[tuple[str, int], int]:
    """Create the session's staging tables, then lock this batch's offset rows (inserting the
    missing ones at 0) in a fixed order, so two sink processes writing the same partition take
    turns; returns the stored next offsets. One round trip."""
    parts = sorted(batch.first)
    statements = [f"CREATE TEMP TABLE IF NOT EXISTS {name}_in (LIKE {name} INCLUDING DEFAULTS)"
                  " ON COMMIT DELETE ROWS" for name in batch.copies]
    if not parts:
        if statements:
            cur.execute(";\n".join(statements))
        return {}
    topics, partitions = [t for t, _ in parts], [p for _, p in parts]
    statements.append(cur.mogrify(
        "INSERT INTO sink_offsets (consumer_group, topic, partition, next_offset)"
        " SELECT %s, t, p, 0 FROM unnest(%s::text[], %s::int[]) AS k (t, p) ON CONFLICT DO NOTHING;\n"
        "SELECT topic, partition, next_offset FROM sink_offsets WHERE consumer_group = %s"
        " AND (topic, partition) IN (SELECT * FROM unnest(%s::text[], %s::int[]))"
        " ORDER BY topic, partition FOR UPDATE",
        (group, topics, partitions, group, topics, partitions)).decode())
    cur.execute(";\n".join(statements))
    return {(t, p): o for t, p, o in cur.fetchall()}


def rollback(conn) -> None:
    """Roll back the transaction in flight. A connection that broke (the server restarted) has
    nothing left to roll back: the server discarded the transaction, and the caller's own error,
    not "connection already closed", is the one that tells what happened."""
    try:
        conn.rollback()
    except (psycopg2.OperationalError, psycopg2.InterfaceError):
        pass


def _insert_sql(table: Table) -> str:
    columns = ", ".join(table.columns)
    conflict = "DO NOTHING"
    if table.newer:  # the stored row gives way to a higher version (claims keep their latest)
        sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in table.columns if c != table.key)
        conflict = (f"DO UPDATE SET {sets}, applied_at = clock_timestamp() "
                    f"WHERE {table.name}.{table.newer} < EXCLUDED.{table.newer}")
    return (f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM pg_temp.{table.name}_in"
            f" ON CONFLICT ({table.key}) {conflict}")


def _insert_ledger(cur) -> tuple[int, list[str]]:
    cur.execute(_LEDGER_SQL.format(columns=", ".join(TABLES["ledger_entries"].columns)))
    per_account = cur.fetchall()
    return sum(n for _, n in per_account), sorted({account for account, _ in per_account})


def _copy_field(value) -> str:
    """One value in COPY text format (a list is a PostgreSQL array, bytes a bytea)."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return _escape(value)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return _escape("{" + ",".join("NULL" if v is None else _array_item(str(v))
                                      for v in value) + "}")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\\\x" + bytes(value).hex()
    return str(value)


def _array_item(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _escape(text: str) -> str:
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return (text.replace("\\", "\\\\").replace("\t", "\\t")
                .replace("\n", "\\n").replace("\r", "\\r"))
    return text


def _copy_text(rows: Iterable[tuple]) -> str:
    return "".join("\t".join(map(_copy_field, row)) + "\n" for row in rows)


def _balances(cur, accounts: list[str]) -> list[dict]:
    if not accounts:
        return []
    cur.execute(f"SELECT {', '.join(_BALANCE_COLUMNS)} FROM account_balances"
                " WHERE account_id = ANY(%s) ORDER BY account_id", (accounts,))
    return [dict(zip(_BALANCE_COLUMNS, row)) for row in cur.fetchall()]


# The outbox rows a relay takes: each row stays locked (FOR UPDATE) until the relay's transaction
# ends, after the broker acknowledged; a row another relay holds is passed over, never waited for.
# READ COMMITTED whatever the server's default: the balances are read by a statement of their own
# after the locks, with a snapshot of their own (a transaction-wide snapshot could be older).
_LOCK_OUTBOX_SQL = """
SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
SELECT account_id FROM balance_outbox {where} ORDER BY account_id LIMIT %s FOR UPDATE SKIP LOCKED
"""

# Take out of the outbox the accounts whose balance is still the one the broker acknowledged. A
# balance a writer is changing right now is locked by it: passed over (SKIP LOCKED), so its row
# stays for the new balance. One the relay locks (FOR SHARE) cannot change until the row is gone.
_CLEAR_OUTBOX_SQL = """
DELETE FROM balance_outbox WHERE account_id IN (
    SELECT b.account_id FROM account_balances b JOIN (VALUES %s) AS p (account_id, entries)
    ON b.account_id = p.account_id AND b.entries = p.entries
    FOR SHARE OF b SKIP LOCKED)
"""


def lock_outbox(cur, accounts: Sequence[str] | None = None, limit: int = 10_000) -> list[dict]:
    """Begin a transaction (the connection must have none open): lock outbox rows no other relay
    holds (of `accounts`, or any), then read their balances. The read is a statement of its own,
    after the locks: it sees every balance committed before, so it is never older than what an
    earlier holder sent."""
    where, params = ("WHERE account_id = ANY(%s)", (list(accounts), limit)) if accounts is not None \
        else ("", (limit,))
    cur.execute(_LOCK_OUTBOX_SQL.format(where=where), params)
    locked = [account for (account,) in cur.fetchall()]
    return _balances(cur, locked)


def clear_outbox(cur, balances: list[dict]) -> int:
    """In the caller's transaction: forget the accounts whose acknowledged balance is still the
    committed one (`entries` only grows); returns how many left the outbox."""
    if not balances:
        return 0
    execute_values(cur, _CLEAR_OUTBOX_SQL, [(b["account_id"], b["entries"]) for b in balances],
                   page_size=len(balances))
    return cur.rowcount


def outbox_size(conn) -> int:
    """Accounts whose balance is still to be published (some may be held by another relay)."""
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM balance_outbox")
        (n,) = cur.fetchone()
    conn.rollback()
    return n


def stored_offsets(conn, group: str) -> dict[tuple[str, int], int]:
    """Where `group` resumes, per (topic, partition), as committed with the data."""
    with conn.cursor() as cur:
        cur.execute("SELECT topic, partition, next_offset FROM sink_offsets WHERE consumer_group = %s",
                    (group,))
        rows = cur.fetchall()
    conn.rollback()  # end the read transaction so the connection holds no snapshot while idle
    return {(t, p): o for t, p, o in rows}
