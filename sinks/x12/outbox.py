"""Control numbers, file records and the outbox directory for the X12 sink (PostgreSQL + files).

A file goes out in three steps: its control numbers are allocated and committed on their own (a
crash leaves a gap, never a reuse); the text is written to a hidden temporary name and fsynced;
then the file record, its claims and the consumer offsets commit in one transaction, and only then
is the file renamed to its final name. On start, `recover` finishes renames a crash interrupted
after the commit and deletes temporary files whose transaction never committed.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from psycopg2.extras import execute_values

from sinks.x12.build837 import PROFESSIONAL, VERSION

_ALLOCATE = """
INSERT INTO x12_control_numbers AS c (sender_id, receiver_id, last_isa13, last_gs06, last_st02)
VALUES (%s, %s, 1, 1, 1)
ON CONFLICT (sender_id, receiver_id) DO UPDATE
SET last_isa13 = c.last_isa13 + 1, last_gs06 = c.last_gs06 + 1, last_st02 = c.last_st02 + 1,
    updated_at = clock_timestamp()
RETURNING last_isa13, last_gs06, last_st02
"""

_OFFSETS = """
INSERT INTO sink_offsets AS o (consumer_group, topic, partition, next_offset) VALUES %s
ON CONFLICT (consumer_group, topic, partition) DO UPDATE
SET next_offset = EXCLUDED.next_offset, updated_at = clock_timestamp()
WHERE EXCLUDED.next_offset > o.next_offset
"""


@dataclass(frozen=True)
class PendingFile:
    claim_type: str
    sender_id: str
    receiver_id: str
    isa13: int
    gs06: int
    st02: int
    claims: list[dict]
    name: str


def allocate(conn, sender_id: str, receiver_id: str) -> tuple[int, int, int]:
    """The next (ISA13, GS06, ST02) for this sender and receiver, committed before use."""
    with conn.cursor() as cur:
        cur.execute(_ALLOCATE, (sender_id, receiver_id))
        numbers = cur.fetchone()
    conn.commit()
    return numbers


def file_name(claim_type: str, sender_id: str, receiver_id: str, isa13: int) -> str:
    kind = "837P" if claim_type == PROFESSIONAL else "837I"
    return f"{kind}_{sender_id}_{receiver_id}_{isa13:09d}.x12"


def _temporary(outbox: Path, name: str) -> Path:
    return outbox / f".{name}.tmp"


def stage(outbox: Path, name: str, text: str) -> Path:
    """Write `text` under a temporary name in `outbox` and fsync it."""
    outbox.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(outbox, name)
    with open(tmp, "w", encoding="ascii", newline="") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    return tmp


def publish(outbox: Path, name: str) -> Path:
    """Rename the staged file to its final name (atomic) and fsync the directory."""
    final = outbox / name
    os.replace(_temporary(outbox, name), final)
    fd = os.open(outbox, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return final


def sent_already(conn, claim_ids: list[str]) -> set[tuple[str, int]]:
    """(claim id, version) of each version of these claims already sent."""
    with conn.cursor() as cur:
        cur.execute("SELECT claim_id, version FROM x12_claims_sent WHERE claim_id = ANY(%s)",
                    (claim_ids,))
        return {(row[0], row[1]) for row in cur.fetchall()}


def record(conn, group: str, files: list[PendingFile],
           offsets: dict[tuple[str, int], int]) -> None:
    """File rows, claim rows and consumer offsets in one transaction; commit it."""
    try:
        with conn.cursor() as cur:
            for f in files:
                cur.execute(
                    "INSERT INTO x12_files (file_name, claim_type, version, sender_id, receiver_id,"
                    " isa13, gs06, st02, claim_ids, claim_count, total_charge_cents)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (f.name, f.claim_type, VERSION[f.claim_type], f.sender_id, f.receiver_id,
                     f.isa13, f.gs06, f.st02, [c["claim_id"] for c in f.claims], len(f.claims),
                     sum(c["total_charge_cents"] for c in f.claims)))
                execute_values(cur, "INSERT INTO x12_claims_sent (claim_id, version, file_name,"
                               " account_id, claim_type, total_charge_cents) VALUES %s",
                               [(c["claim_id"], c.get("version") or 1, f.name, c["account_id"],
                                 c["claim_type"], c["total_charge_cents"]) for c in f.claims])
            if offsets:
                execute_values(cur, _OFFSETS, [(group, t, p, o) for (t, p), o in offsets.items()])
        conn.commit()
    except Exception:
        conn.rollback()
        raise


def recover(conn, outbox: Path) -> tuple[int, int]:
    """(renames finished, orphans deleted) for temporary files a crash left in the outbox."""
    if not outbox.is_dir():
        return 0, 0
    staged = {p.name[1:-4]: p for p in outbox.glob(".*.x12.tmp")}
    if not staged:
        return 0, 0
    with conn.cursor() as cur:
        cur.execute("SELECT file_name FROM x12_files WHERE file_name = ANY(%s)", (list(staged),))
        committed = {row[0] for row in cur.fetchall()}
    conn.rollback()
    for name, path in staged.items():
        if name in committed:
            publish(outbox, name)
        else:
            path.unlink()
    return len(committed), len(staged) - len(committed)
