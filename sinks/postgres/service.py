"""Sink the pipeline's output topics into PostgreSQL.

Consumes: claims, coding-review, encounters-coded, denials, ledger-entries, dead-letters,
          claim-status, denial-patterns, scrub-rule-proposals, scrub-rules,
          encounters (discharge times only; the coding stage owns its bad records),
          remittances (as paid, lines included; the ledger stage owns its bad records)
Produces: account-balances, kpis, ar-aging-snapshots (sinks.postgres.publisher, its own thread)
Rule:     sinks.postgres.writer.write_prepared (one transaction: rows + balances + offsets)

Two batches are in hand at once: while one is written to PostgreSQL (on the writer thread), the
main thread polls and decodes the next. PostgreSQL is the source of truth for where to resume: on
every assignment the consumer seeks to the offsets stored with the data (after the batch in flight
has committed), and the writer skips what is below the stored offsets, so several `rcm sink`
processes in one group (`--workers N`) neither lose nor double a record. Offsets are committed to
Kafka afterwards too, only so lag tools see the sink. Logs carry counts, never record contents or
account ids.
"""
from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from datetime import UTC, datetime

import psycopg2
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata
from prometheus_client import Counter, Histogram

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
from infra.settings import Settings
from processors.ledger.rules import validate_remittance
from schemas import codec, deadletter
from schemas.codec import DecodeError
from schemas.topics import (
    CLAIM_STATUS,
    CLAIMS,
    CODING_REVIEW,
    DEAD_LETTERS,
    DEADLINE_APPROACHING,
    DENIAL_EXPIRED,
    DENIAL_LIFECYCLE,
    DENIAL_PATTERNS,
    DENIALS,
    ENCOUNTERS,
    ENCOUNTERS_CODED,
    LEDGER_ENTRIES,
    REMITTANCES,
    SCRUB_RULE_PROPOSALS,
    SCRUB_RULES,
    Topic,
)
from sinks.postgres import writer
from sinks.postgres.migrate import apply_migrations
from sinks.postgres.offsets import SeekToStored
from sinks.postgres.publisher import (  # noqa: F401 (re-exported: tests and tools use them here)
    Publisher,
    balance_deliverer,
    drain_outbox,
    publish_balances,
)
from sinks.postgres.writer import BatchResult, SinkRecord

log = logging.getLogger("rcm.sink")

TOPICS: tuple[Topic, ...] = (CLAIMS, CODING_REVIEW, ENCOUNTERS_CODED, DENIALS, LEDGER_ENTRIES,
                             DEAD_LETTERS, CLAIM_STATUS, DENIAL_PATTERNS, SCRUB_RULE_PROPOSALS,
                             SCRUB_RULES, ENCOUNTERS, DENIAL_LIFECYCLE,
                             DEADLINE_APPROACHING, DENIAL_EXPIRED, REMITTANCES)
# Input topics whose bad records a processor stage already dead-letters: the sink passes over
# what it cannot decode or store there, so one bad record still gives exactly one dead letter.
NOT_OWNED = frozenset({ENCOUNTERS.name, REMITTANCES.name})
_BY_NAME = {t.name: t for t in TOPICS}
STAGE = "sink"
MAX_RECORDS = 5000
CONNECT_TIMEOUT_S = 10  # one PostgreSQL connection attempt
PING_IDLE_S = 5.0  # while no records come, check the database this often
# A SIGKILLed sink's place in the group is given to its successor after this long (default 45 s)
SESSION_TIMEOUT_MS = 10_000
BOOTSTRAP_TIMEOUT_MS = 30_000  # one attempt to bootstrap, once a broker accepts connections
SUPERVISOR_ENV = "RCM_SINK_SUPERVISOR_PID"  # set by `rcm sink --workers N` in its children

RECORDS = Counter("rcm_sink_records_total", "Records the sink applied or dead-lettered", ["topic"])
BATCHES = Counter("rcm_sink_batches_total", "Batches committed to PostgreSQL")
ERRORS = Counter("rcm_sink_errors_total", "Records the sink could not decode or store", ["topic"])
BATCH_SECONDS = Histogram("rcm_sink_batch_seconds", "Time to write and commit one batch")
SKIPPED = Counter("rcm_sink_records_skipped_total",
                  "Records below the offsets stored in PostgreSQL (applied before), not applied again")
LATENCY = Histogram("rcm_sink_latency_seconds", "Commit time minus the source event's emit time",
                    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800))


def to_sink_record(msg) -> SinkRecord:
    """Decode a consumed message; a record that does not decode becomes a sink dead letter."""
    topic = _BY_NAME[msg.topic]
    try:
        value = codec.decode_for(topic, msg.value)
        if msg.topic == REMITTANCES.name and validate_remittance(value):
            # The ledger stage dead-letters it and posts nothing: the table keeps what was posted.
            return SinkRecord(msg.topic, msg.partition, msg.offset, writer.SKIP, {})
        return SinkRecord(msg.topic, msg.partition, msg.offset, topic.value_schema, value)
    except DecodeError as exc:
        ERRORS.labels(msg.topic).inc()
        if msg.topic in NOT_OWNED:
            return SinkRecord(msg.topic, msg.partition, msg.offset, writer.SKIP, {})
        return SinkRecord(msg.topic, msg.partition, msg.offset, "DeadLetter",
                          dead_letter(msg, exc.kind, exc.reason))


def dead_letter(msg, error: str, reason: str) -> dict:
    return deadletter.dead_letter(
        deadletter.offset_id(msg.topic, msg.partition, msg.offset, STAGE), msg.topic, STAGE, error,
        reason, key=msg.key, payload=msg.value or b"", partition=msg.partition, offset=msg.offset,
        at=datetime.now(UTC))


def write_isolating_poison(conn, group: str, records: list[SinkRecord], messages: list,
                           prepared: writer.Prepared | None = None) -> list[BatchResult]:
    """Write the batch; if PostgreSQL refuses a row, write one record at a time and dead-letter the
    refused ones (each with its own offset), so one bad row never stalls a partition."""
    try:
        return [writer.write_prepared(conn, group, prepared or writer.prepare(records))]
    except (psycopg2.DataError, psycopg2.IntegrityError, KeyError, TypeError, ValueError) as exc:
        log.warning("batch of %d refused (%s); writing record by record", len(records),
                    type(exc).__name__)
    results = []
    for rec, msg in zip(records, messages):
        try:
            results.append(writer.write_batch(conn, group, [rec]))
        except (psycopg2.DataError, psycopg2.IntegrityError, KeyError, TypeError, ValueError) as exc:
            ERRORS.labels(rec.topic).inc()
            if rec.topic in NOT_OWNED:
                results.append(writer.write_batch(conn, group, [SinkRecord(
                    rec.topic, rec.partition, rec.offset, writer.SKIP, {})]))
                continue
            reason = f"PostgreSQL refused the row: {type(exc).__name__}"
            results.append(writer.write_batch(conn, group, [SinkRecord(
                rec.topic, rec.partition, rec.offset, "DeadLetter",
                dead_letter(msg, "INVALID", reason))]))
    return results


def _observe_latency(records: list[SinkRecord], committed_at: float) -> None:
    for rec in records:
        emitted = rec.value.get("source_emitted_at")
        if emitted is not None:
            LATENCY.observe(max(0.0, committed_at - emitted.timestamp()))


class Batch:
    """Messages read together, decoded and rendered for the writer."""

    def __init__(self, messages: list) -> None:
        self.started = time.perf_counter()
        self.messages = messages
        self.records = [to_sink_record(m) for m in messages]
        self.prepared = writer.prepare(self.records)


class BatchWriter:
    """Writes one batch at a time on its own thread, so the main thread can poll and decode the
    next one meanwhile. Only the main thread calls it."""

    def __init__(self, group: str) -> None:
        self.group = group
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="rcm-sink-writer")
        self.inflight: tuple[Batch, Future] | None = None

    def submit(self, conn, batch: Batch) -> None:
        assert self.inflight is None, "one batch in flight at a time"
        self.inflight = (batch, self.pool.submit(self._write, conn, batch))

    def _write(self, conn, batch: Batch) -> list[BatchResult]:
        with BATCH_SECONDS.time():
            return write_isolating_poison(conn, self.group, batch.records, batch.messages,
                                          batch.prepared)

    def wait(self) -> None:
        """Let the batch in flight commit or fail; raises nothing (rebalance callbacks call it:
        the consumer's position must not be sought while a write for it is still open)."""
        if self.inflight is not None:
            wait_for([self.inflight[1]])

    def take(self) -> tuple[Batch, list[BatchResult]] | None:
        """The batch in flight and its results, once written; raises what writing it raised."""
        if self.inflight is None:
            return None
        batch, future = self.inflight
        self.inflight = None
        return batch, future.result()

    def drop(self) -> None:
        """Forget the batch in flight after a fault: committed or rolled back, PostgreSQL's
        offsets say which, and the partitions are sought there again."""
        self.wait()
        self.inflight = None

    def close(self) -> None:
        self.pool.shutdown(wait=True)


def run_sink(settings: Settings, stop_event: threading.Event | None = None,
             idle_exit_s: float | None = None, metrics_port: int | None = None) -> int:
    """Consume until stopped (SIGTERM/SIGINT, stop_event, or idle for idle_exit_s); return records
    handled. PostgreSQL or Kafka away (at start or later) is waited out (infra.reconnect); raises
    reconnect.Fatal for bad settings or refused access."""
    stop = stop_event or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    port = settings.sink_metrics_port if metrics_port is None else metrics_port
    health = Health("sink")
    server = serve(health, port)
    retry = Retry("sink", settings.reconnect_initial_s, settings.reconnect_max_s, stop,
                  health.set_connected)
    db = Database(settings.sink_dsn, retry, health, owner_dsn=settings.dsn)
    halt = threading.Event()
    publisher = Publisher(settings, Database(settings.sink_dsn, Retry(
        "sink publisher", settings.reconnect_initial_s, settings.reconnect_max_s, halt,
        health.set_connected), health), balance_deliverer(settings), halt, stop)
    consumer = None
    batches = BatchWriter(settings.sink_group)
    applied = 0
    try:
        db.connect(migrate=True)
        publisher.start()
        listener = SeekToStored(None, db.conn, settings.sink_group, before=batches.wait)
        consumer = retry.call("kafka", lambda: _consumer(settings, listener), transient_kafka)
        listener.consumer = consumer
        applied = _consume(settings, stop, idle_exit_s, db, consumer, listener, batches, publisher,
                           health)
    except Stopped:
        pass
    finally:
        log.info("sink stopping after %d records", applied)
        batches.close()
        publisher.close()
        if consumer is not None:
            consumer.close(autocommit=False)
        publisher.deliverer.close()
        db.close()
        if server is not None:
            server.shutdown()
            server.server_close()
    if publisher.error is not None:
        raise publisher.error
    return applied


def _consumer(settings: Settings, listener: SeekToStored) -> KafkaConsumer:
    require_broker(settings.bootstrap)
    consumer = KafkaConsumer(
        **client_options("sink", settings=settings), group_id=settings.sink_group,
        enable_auto_commit=False, auto_offset_reset="earliest", max_poll_records=MAX_RECORDS,
        client_id=f"{settings.app_id}-sink", bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
        session_timeout_ms=SESSION_TIMEOUT_MS)
    consumer.subscribe([t.name for t in TOPICS], listener=listener)
    return consumer


class Database:
    """The sink's PostgreSQL connection, made again (with backoff) whenever it breaks."""

    def __init__(self, dsn: str, retry: Retry, health: Health, owner_dsn: str | None = None) -> None:
        """dsn: the sink's role, which writes rows and changes no table; owner_dsn: the owner's,
        which applies the migrations (docs/security.md)."""
        self.dsn, self.retry, self.health = dsn, retry, health
        self.owner_dsn = owner_dsn or dsn
        self.conn = None

    def connect(self, migrate: bool = False) -> None:
        def attempt():
            if migrate:
                apply_migrations(self.owner_dsn)
            conn = psycopg2.connect(self.dsn, connect_timeout=CONNECT_TIMEOUT_S)
            conn.rollback()  # proves the server answers, not just that the socket opened
            return conn

        self.close()
        self.conn = self.retry.call("postgres", attempt, transient_postgres)

    def ping(self) -> None:
        """While idle: notice a database that went away (readiness), and reconnect before the
        next batch needs it. Raises what the connection raises."""
        with self.conn.cursor() as cur:
            cur.execute("SELECT 1")
        self.conn.rollback()

    def failed(self, exc: BaseException) -> None:
        """The connection broke mid-work: count, wait, reconnect. The batch in flight was rolled
        back with its connection; the caller re-reads it from the offsets stored in PostgreSQL."""
        self.retry.failed("postgres", exc)
        self.connect()

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except psycopg2.Error:
                pass
            self.conn = None


def _consume(settings: Settings, stop, idle_exit_s, db: Database, consumer,
             listener: SeekToStored, batches: BatchWriter, publisher: Publisher,
             health: Health) -> int:
    applied, idle_since, pinged = 0, time.monotonic(), time.monotonic()
    while not stop.is_set():
        health.beat()
        health.set_partitions(len(consumer.assignment()))
        health.set_connected("kafka", kafka_consumer_connected(consumer))
        if supervisor_gone():
            log.warning("supervisor is gone; stopping")
            break
        try:
            if listener.unsought:  # an assignment PostgreSQL could not seek: seek it now
                applied += _finish(batches, consumer, publisher, health)
                listener.seek(listener.unsought)
            polled = consumer.poll(timeout_ms=500, max_records=MAX_RECORDS)
            messages = [m for batch in polled.values() for m in batch]
            if listener.unsought:
                continue  # read from where Kafka said, not PostgreSQL: seek first, read again
            if not messages:
                applied += _finish(batches, consumer, publisher, health)
                # Idle means nothing to read and nothing waiting in the outbox: balances the broker
                # has not taken yet are work left, so a broker slow to come back is waited for.
                if idle_exit_s is not None and publisher.idle() \
                        and time.monotonic() - idle_since >= idle_exit_s:
                    break
                if time.monotonic() - pinged >= PING_IDLE_S:
                    pinged = time.monotonic()
                    db.ping()
                continue
            idle_since = time.monotonic()
            batch = Batch(messages)  # decoded while the previous batch is being written
            applied += _finish(batches, consumer, publisher, health)
            batches.submit(db.conn, batch)
        except Exception as exc:
            batches.drop()
            if transient_postgres(exc) or classify("postgres", exc) is not None:
                db.failed(exc)
                listener.conn = db.conn
                # back to what PostgreSQL committed, before anything more is read
                listener.unsought.update(consumer.assignment())
            elif transient_kafka(exc) or classify("kafka", exc) is not None:
                retry_kafka(db.retry, exc)
            else:
                raise
    try:
        applied += _finish(batches, consumer, publisher, health)
    except Exception as exc:  # noqa: BLE001 (stopping: PostgreSQL's offsets say what committed)
        log.warning("the last batch did not commit (%s)", type(exc).__name__)
    return applied


def retry_kafka(retry: Retry, exc: BaseException) -> None:
    """A Kafka call failed (the client reconnects by itself): count it, wait, go on."""
    retry.failed("kafka", exc)


def supervisor_gone() -> bool:
    """A sink started by `rcm sink --workers N` stops when its supervisor is gone (SIGKILL gives
    the supervisor no chance to stop it)."""
    parent = os.environ.get(SUPERVISOR_ENV)
    return bool(parent) and os.getppid() != int(parent)


def _finish(batches: BatchWriter, consumer, publisher: Publisher, health: Health) -> int:
    """Wait for the batch in flight; hand its balances to the publisher and tell Kafka its offsets
    (lag tools read them; PostgreSQL holds the real ones). Returns its records."""
    taken = batches.take()
    if taken is None:
        return 0
    batch, results = taken
    committed_at = time.time()
    health.commit()
    BATCHES.inc()
    for rec in batch.records:
        RECORDS.labels(rec.topic).inc()
    skipped = sum(r.skipped for r in results)
    SKIPPED.inc(skipped)
    _observe_latency([r for r in batch.records if r.schema != "DeadLetter"], committed_at)
    balances = {b["account_id"]: b for res in results for b in res.balances}
    publisher.hand_over(list(balances.values()))
    offsets = writer.next_offsets(batch.records)
    consumer.commit_async({TopicPartition(t, p): OffsetAndMetadata(o, "", -1)
                           for (t, p), o in offsets.items()})
    log.info("batch: %d records (%d applied before), %d balances handed over in %.0f ms",
             len(batch.records), skipped, len(balances),
             (time.perf_counter() - batch.started) * 1000)
    return len(batch.records)


def add_arguments(parser, name: str) -> None:
    parser.add_argument("--idle-exit", type=float, default=None, metavar="SECONDS",
                        help="exit after this many seconds without records (for scripts and tests)")
    parser.add_argument("--metrics-port", type=int, default=None,
                        help="Prometheus port on 127.0.0.1 (0 disables; default RCM_SINK_METRICS_PORT)")
    parser.add_argument("--workers", type=int, default=1,
                        help="run N sinks in one consumer group, each its own process (metrics "
                             "of worker i >= 1 on RCM_SINK_WORKER_METRICS_PORT + i - 1)")


def cmd_sink(args) -> int:
    from infra.settings import load

    settings = load()
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if args.workers > 1:
        from sinks.postgres.workers import supervise

        port = settings.sink_metrics_port if args.metrics_port is None else args.metrics_port
        extra = [] if args.idle_exit is None else ["--idle-exit", str(args.idle_exit)]
        return supervise(args.workers, extra, port, SUPERVISOR_ENV, settings)
    try:
        applied = run_sink(settings, idle_exit_s=args.idle_exit, metrics_port=args.metrics_port)
    except Fatal as fatal:
        print(f"rcm sink: {fatal}", file=sys.stderr, flush=True)
        return fatal.code
    log.warning("sink stopped: %d records applied", applied)
    return 0
