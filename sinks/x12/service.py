"""Write CLEAN claims as 5010 837 files, one 837P and one 837I per batch.

Consumes: claims        (key: account_id, value: ClaimBuilt)
Produces: 837 files in RCM_X12_OUTBOX; rows in x12_files, x12_claims_sent; offsets in sink_offsets
Rule:     sinks.x12.build837.write_837 (demographics from sinks.x12.directory)

Its own consumer group (RCM_SINK_GROUP + "-x12"); PostgreSQL holds where it resumes, committed
with the file records, so a redelivered claim is never written twice. HELD claims wait for a biller
and self-pay claims have no payer to bill: they are read past, not written. Logs carry counts only.
"""
from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaConsumer
from prometheus_client import Counter

from infra.health import Health, kafka_consumer_connected, serve
from infra.kafka_auth import client_options
from infra.reconnect import (
    Fatal,
    Retry,
    Stopped,
    classify,
    require_broker,
    transient_kafka,
    transient_postgres,
)
from schemas import codec
from schemas.codec import DecodeError
from schemas.topics import CLAIMS
from sinks.postgres.offsets import SeekToStored
from sinks.postgres.service import (
    BOOTSTRAP_TIMEOUT_MS,
    PING_IDLE_S,
    SESSION_TIMEOUT_MS,
    Database,
)
from sinks.x12 import outbox
from sinks.x12.build837 import INSTITUTIONAL, PROFESSIONAL, Envelope, unsendable, write_837
from sinks.x12.directory import BillingDirectory, PlaceholderDirectory
from sinks.x12.validate import validate

log = logging.getLogger("rcm.sink.x12")

FILES = Counter("rcm_x12_files_total", "837 files written", ["claim_type"])
CLAIMS_OUT = Counter("rcm_x12_claims_total", "Claims records read by the X12 sink, by outcome "
                     "(sent, already_sent, held_or_unsendable)", ["outcome"])


class InvalidFile(RuntimeError):
    """pyx12 rejected a file the sink built: nothing of the batch is written or committed."""


def group_of(settings) -> str:
    return settings.sink_group + "-x12"


def sendable_claims(messages: list) -> tuple[list[dict], int]:
    """(claims to send, in order, first of each claim version; records read past)."""
    claims: dict[tuple[str, int], dict] = {}
    skipped = 0
    for msg in messages:
        try:
            claim = codec.decode_for(CLAIMS, msg.value)
        except DecodeError:
            skipped += 1  # the PostgreSQL sink dead-letters it; here it is only read past
            continue
        if unsendable(claim) is not None:
            skipped += 1
            continue
        claims.setdefault((claim["claim_id"], claim["version"]), claim)
    return list(claims.values()), skipped


def write_batch(conn, settings, group: str, directory: BillingDirectory, out: Path,
                messages: list, now: datetime | None = None, check: bool = True) -> list[Path]:
    """Write the batch's new claims as at most one 837P and one 837I; return the files written.
    With `check`, pyx12 validates each file first and a rejected file stops the batch (InvalidFile)."""
    claims, skipped = sendable_claims(messages)
    done = outbox.sent_already(conn, [c["claim_id"] for c in claims]) if claims else set()
    sender, receiver = settings.x12_sender_id, settings.x12_receiver_id
    pending: list[outbox.PendingFile] = []
    now = now or datetime.now(UTC)
    try:
        for claim_type in (PROFESSIONAL, INSTITUTIONAL):
            group_claims = [c for c in claims
                            if c["claim_type"] == claim_type
                            and (c["claim_id"], c["version"]) not in done]
            if not group_claims:
                continue
            isa13, gs06, st02 = outbox.allocate(conn, sender, receiver)
            envelope = Envelope(sender, receiver, settings.x12_receiver_name, isa13, gs06, st02,
                                now, settings.x12_usage)
            text = write_837(group_claims, claim_type, envelope, directory)
            if check and (errors := validate(text).errors):
                # the messages quote segment values (names, ids): count them, never print them
                raise InvalidFile(f"pyx12 rejected the {claim_type} file for control number "
                                  f"{isa13} with {len(errors)} errors")
            name = outbox.file_name(claim_type, sender, receiver, isa13)
            outbox.stage(out, name, text)
            pending.append(outbox.PendingFile(claim_type, sender, receiver, isa13, gs06, st02,
                                              group_claims, name))
        offsets: dict[tuple[str, int], int] = {}
        for msg in messages:
            key = (msg.topic, msg.partition)
            offsets[key] = max(offsets.get(key, 0), msg.offset + 1)
        outbox.record(conn, group, pending, offsets)
    except Exception as exc:
        if not transient_postgres(exc):
            for f in pending:
                (out / f".{f.name}.tmp").unlink(missing_ok=True)
        # else the commit may have happened before the connection broke: `outbox.recover`, run
        # once the database is back, renames the files it recorded and deletes the others
        raise
    published = [outbox.publish(out, f.name) for f in pending]
    for f in pending:
        FILES.labels(f.claim_type).inc()
        CLAIMS_OUT.labels("sent").inc(len(f.claims))
    CLAIMS_OUT.labels("already_sent").inc(len(done))
    CLAIMS_OUT.labels("held_or_unsendable").inc(skipped)
    return published


def run_sink_x12(settings, out: Path | None = None, batch_size: int = 500,
                 max_wait_s: float = 5.0, stop_event: threading.Event | None = None,
                 idle_exit_s: float | None = None,
                 directory: BillingDirectory | None = None, check: bool = True,
                 metrics_port: int = 0) -> int:
    """Consume `claims` until stopped (SIGTERM/SIGINT, stop_event, or idle); return files written.
    PostgreSQL or Kafka away is waited out (infra.reconnect); raises Fatal for bad settings or
    refused access, InvalidFile when pyx12 rejects a file."""
    stop = stop_event or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    health = Health("sink-x12")
    server = serve(health, metrics_port)
    out = out or settings.x12_outbox_dir
    directory = directory or PlaceholderDirectory.from_settings(settings)
    retry = Retry("sink-x12", settings.reconnect_initial_s, settings.reconnect_max_s, stop,
                  health.set_connected)
    db = Database(settings.sink_dsn, retry, health, owner_dsn=settings.dsn)
    group = group_of(settings)
    consumer = None
    written = 0
    try:
        db.connect(migrate=True)
        _recover(db, out)
        listener = SeekToStored(None, db.conn, group)
        def connect() -> KafkaConsumer:
            require_broker(settings.bootstrap)
            return KafkaConsumer(
                **client_options("sink-x12", settings=settings), group_id=group, enable_auto_commit=False,
                auto_offset_reset="earliest", client_id=f"{settings.app_id}-sink-x12",
                bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS, session_timeout_ms=SESSION_TIMEOUT_MS)

        consumer = retry.call("kafka", connect, transient_kafka)
        listener.consumer = consumer
        consumer.subscribe([CLAIMS.name], listener=listener)
        loop = _Loop(settings, db, consumer, listener, health, directory, out, check)
        written = loop.run(stop, batch_size, max_wait_s, idle_exit_s)
    except Stopped:
        pass
    finally:
        if consumer is not None:
            consumer.close(autocommit=False)
        db.close()
        if server is not None:
            server.shutdown()
            server.server_close()
    return written


def _recover(db: Database, out: Path) -> None:
    while True:
        try:
            finished, orphans = outbox.recover(db.conn, out)
            break
        except Exception as exc:
            if not transient_postgres(exc):
                raise
            db.failed(exc)
    if finished or orphans:
        log.warning("outbox recovery: %d renames finished, %d uncommitted files removed",
                    finished, orphans)


class _Loop:
    def __init__(self, settings, db: Database, consumer, listener: SeekToStored, health: Health,
                 directory: BillingDirectory, out: Path, check: bool) -> None:
        self.settings, self.db, self.consumer, self.listener = settings, db, consumer, listener
        self.health, self.directory, self.out, self.check = health, directory, out, check
        self.group = group_of(settings)

    def write(self, batch: list) -> int:
        files = write_batch(self.db.conn, self.settings, self.group, self.directory, self.out,
                            batch, check=self.check)
        self.health.commit()
        log.info("batch of %d records: %d files", len(batch), len(files))
        return len(files)

    def run(self, stop, batch_size: int, max_wait_s: float, idle_exit_s: float | None) -> int:
        consumer, listener = self.consumer, self.listener
        written, batch, first_at, idle_since = 0, [], 0.0, time.monotonic()
        pinged = time.monotonic()
        while not stop.is_set():
            self.health.beat()
            self.health.set_partitions(len(consumer.assignment()))
            self.health.set_connected("kafka", kafka_consumer_connected(consumer))
            try:
                if listener.unsought:
                    batch = []  # read from positions PostgreSQL did not give: read again
                    listener.seek(listener.unsought)
                polled = consumer.poll(timeout_ms=200, max_records=max(1, batch_size - len(batch)))
                if listener.unsought:
                    continue
                messages = [m for part in polled.values() for m in part]
                if messages:
                    if not batch:
                        first_at = time.monotonic()
                    batch.extend(messages)
                    idle_since = time.monotonic()
                full = len(batch) >= batch_size
                due = batch and time.monotonic() - first_at >= max_wait_s
                if full or due:
                    written += self.write(batch)
                    batch = []
                elif (not batch and idle_exit_s is not None
                      and time.monotonic() - idle_since >= idle_exit_s):
                    break
                elif not batch and time.monotonic() - pinged >= PING_IDLE_S:
                    pinged = time.monotonic()
                    self.db.ping()
            except InvalidFile:
                raise
            except Exception as exc:
                if transient_postgres(exc) or classify("postgres", exc) is not None:
                    self.db.failed(exc)
                    _recover(self.db, self.out)
                    listener.conn = self.db.conn
                    listener.unsought.update(consumer.assignment())
                    batch = []
                elif transient_kafka(exc) or classify("kafka", exc) is not None:
                    self.db.retry.failed("kafka", exc)
                else:
                    raise
        if batch:  # a clean stop writes what it has read
            try:
                written += self.write(batch)
            except Exception as exc:
                if not transient_postgres(exc):
                    raise
                log.warning("stopping with %d records unwritten (PostgreSQL away); the next run "
                            "reads them again", len(batch))
        return written


def add_arguments(parser, name: str) -> None:
    parser.add_argument("--out", type=Path, default=None,
                        help="outbox directory (default RCM_X12_OUTBOX or $RCM_HOME/x12/outbox)")
    parser.add_argument("--batch-size", type=int, default=500, metavar="N",
                        help="claims records per batch (one 837P and one 837I file per batch)")
    parser.add_argument("--max-wait", type=float, default=5.0, metavar="S",
                        help="write a partial batch after this many seconds")
    parser.add_argument("--no-validate", action="store_true",
                        help="skip the pyx12 check of each file before it is committed")
    parser.add_argument("--metrics-port", type=int, default=None,
                        help="metrics and /healthz, /readyz on 127.0.0.1 (0: off; default "
                             "RCM_SINK_X12_METRICS_PORT)")
    parser.add_argument("--idle-exit", type=float, default=None, metavar="SECONDS",
                        help="exit after this many seconds without records (for scripts and tests)")


def cmd_sink_x12(args) -> int:
    from infra.settings import load

    settings = load()
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    port = settings.sink_x12_metrics_port if args.metrics_port is None else args.metrics_port
    try:
        files = run_sink_x12(settings, out=args.out, batch_size=args.batch_size,
                             max_wait_s=args.max_wait, idle_exit_s=args.idle_exit,
                             check=not args.no_validate, metrics_port=port)
    except Fatal as fatal:
        print(f"rcm sink-x12: {fatal}", file=sys.stderr, flush=True)
        return fatal.code
    log.warning("x12 sink stopped: %d files written", files)
    return 0
