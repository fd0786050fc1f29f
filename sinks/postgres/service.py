"""Sink the pipeline's output topics into PostgreSQL.

Consumes: claims, coding-review, encounters-coded, denials, ledger-entries, dead-letters,
          claim-status, denial-patterns, scrub-rule-proposals, scrub-rules,
          encounters (discharge times only; the coding stage owns its bad records),
          remittances (as paid, lines included; the ledger stage owns its bad records)
Produces: account-balances (key: account_id, value: AccountBalanceUpdated), after each commit;
          kpis and ar-aging-snapshots every RCM_KPI_INTERVAL_S (sinks.postgres.kpi_publish)
Rule:     sinks.postgres.writer.write_batch (one transaction: rows + balances + offsets)

PostgreSQL is the source of truth for where to resume: on every assignment the consumer seeks to
the offsets stored with the data. Offsets are committed to Kafka afterwards too, only so lag
tools see the sink. Logs carry counts, never record contents or account ids.
"""
from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from datetime import UTC, datetime

import psycopg2
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata
from prometheus_client import Counter, Histogram

from infra import settings as settings_mod
from infra.delivery import Deliverer, producer_config
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
from processors.ledger.rules import validate_remittance
from schemas import codec
from schemas.codec import DecodeError
from schemas.topics import (
    ACCOUNT_BALANCES,
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
from sinks.postgres import kpi_publish, writer
from sinks.postgres.migrate import apply_migrations
from sinks.postgres.offsets import SeekToStored
from sinks.postgres.writer import SinkRecord

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
RETRY_OUTBOX_S = 1.0  # after a publication failed, try the outbox again this often (at most)
CONNECT_TIMEOUT_S = 10  # one PostgreSQL connection attempt
PING_IDLE_S = 5.0  # while no records come, check the database this often
# A SIGKILLed sink's place in the group is given to its successor after this long (default 45 s)
SESSION_TIMEOUT_MS = 10_000
BOOTSTRAP_TIMEOUT_MS = 30_000  # one attempt to bootstrap, once a broker accepts connections

RECORDS = Counter("rcm_sink_records_total", "Records the sink applied or dead-lettered", ["topic"])
BATCHES = Counter("rcm_sink_batches_total", "Batches committed to PostgreSQL")
ERRORS = Counter("rcm_sink_errors_total", "Records the sink could not decode or store", ["topic"])
BATCH_SECONDS = Histogram("rcm_sink_batch_seconds", "Time to write and commit one batch")
UNPUBLISHED = Counter("rcm_sink_balances_unpublished_total",
                      "Balance publications the broker did not acknowledge (kept in the outbox)")
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
    return {
        "event_id": f"{msg.topic}:{msg.partition}:{msg.offset}:{STAGE}",
        "source_topic": msg.topic, "source_partition": msg.partition, "source_offset": msg.offset,
        "stage": STAGE, "error": error, "reason": reason, "key": msg.key,
        "payload": msg.value or b"", "dead_lettered_at": datetime.now(UTC),
    }


def write_isolating_poison(conn, group: str, records: list[SinkRecord], messages: list):
    """Write the batch; if PostgreSQL refuses a row, write one record at a time and dead-letter the
    refused ones (each with its own offset), so one bad row never stalls a partition."""
    try:
        return [writer.write_batch(conn, group, records)]
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


def publish_balances(conn, deliverer: Deliverer, balances: list[dict]) -> int:
    """Publish committed balances and take out of the outbox only those the broker acknowledged;
    returns how many it did not (they stay in the outbox for the next drain)."""
    if not balances:
        return 0
    report = deliverer.deliver(balances, _balance_send)
    missing = set(report.missing)
    writer.clear_outbox(conn, [b for i, b in enumerate(balances) if i not in missing])
    if missing:
        UNPUBLISHED.inc(len(missing))
        log.warning("%d of %d balances not acknowledged (%s); kept in the outbox", len(missing),
                    len(balances), ", ".join(report.errors))
    return len(missing)


def _balance_send(balance: dict):
    return (ACCOUNT_BALANCES.name, codec.key_of(ACCOUNT_BALANCES, balance),
            codec.encode(ACCOUNT_BALANCES.value_schema, balance))


def drain_outbox(conn, deliverer: Deliverer) -> tuple[int, int]:
    """Publish what a crash or a failed publication left in the outbox; returns (balances
    published, balances still waiting). Stops at the first batch the broker did not fully take."""
    sent = 0
    for _ in range(100):  # bounded: another sink may keep re-queueing accounts it is updating
        batch = writer.outbox_balances(conn)
        if not batch:
            return sent, 0
        missing = publish_balances(conn, deliverer, batch)
        sent += len(batch) - missing
        if missing:
            return sent, missing
    return sent, len(writer.outbox_balances(conn))


def balance_deliverer(settings, attempts: int = 1) -> Deliverer:
    """The sink publishes each batch's balances once; the outbox is its retry (RETRY_OUTBOX_S)."""
    config = producer_config(settings.bootstrap, settings.delivery_timeout_s,
                             f"{settings.app_id}-sink-balances")
    return Deliverer(lambda: KafkaProducer(**{**config, **client_options("sink", settings=settings)}),
                     settings.delivery_timeout_s, attempts)


def _observe_latency(records: list[SinkRecord], committed_at: float) -> None:
    for rec in records:
        emitted = rec.value.get("source_emitted_at")
        if emitted is not None:
            LATENCY.observe(max(0.0, committed_at - emitted.timestamp()))


def run_sink(settings=None, stop_event: threading.Event | None = None,
             idle_exit_s: float | None = None, metrics_port: int | None = None) -> int:
    """Consume until stopped (SIGTERM/SIGINT, stop_event, or idle for idle_exit_s); return records
    applied. PostgreSQL or Kafka away (at start or later) is waited out (infra.reconnect); raises
    reconnect.Fatal for bad settings or refused access."""
    settings = settings or settings_mod.load()
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
    consumer = deliverer = None
    applied = 0
    try:
        db.connect(migrate=True)
        group = settings.sink_group
        listener = SeekToStored(None, db.conn, group)
        consumer = retry.call("kafka", lambda: _consumer(settings, listener), transient_kafka)
        listener.consumer = consumer
        deliverer = balance_deliverer(settings)
        applied = _consume(settings, stop, idle_exit_s, db, consumer, listener, deliverer, health)
    except Stopped:
        pass
    finally:
        log.info("sink stopping after %d records", applied)
        if consumer is not None:
            consumer.close(autocommit=False)
        if deliverer is not None:
            deliverer.close()
        db.close()
        if server is not None:
            server.shutdown()
            server.server_close()
    return applied


def _consumer(settings, listener: SeekToStored) -> KafkaConsumer:
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


def _consume(settings, stop, idle_exit_s, db: Database, consumer, listener: SeekToStored,
             deliverer: Deliverer, health: Health) -> int:
    group = settings.sink_group
    waiting = _drain_on_start(db, deliverer)
    applied, idle_since = 0, time.monotonic()
    pinged = time.monotonic()
    kpis_due = time.monotonic() + settings.kpi_interval_s
    outbox_due = time.monotonic() + RETRY_OUTBOX_S if waiting else None
    while not stop.is_set():
        health.beat()
        health.set_partitions(len(consumer.assignment()))
        health.set_connected("kafka", kafka_consumer_connected(consumer))
        try:
            if listener.unsought:  # an assignment PostgreSQL could not seek: seek it now
                listener.seek(listener.unsought)
            if outbox_due is not None and time.monotonic() >= outbox_due:
                _, waiting = drain_outbox(db.conn, deliverer)
                outbox_due = time.monotonic() + RETRY_OUTBOX_S if waiting else None
            if settings.kpi_interval_s > 0 and time.monotonic() >= kpis_due:
                kpi_publish.publish_safely(db.conn, deliverer)
                kpis_due = time.monotonic() + settings.kpi_interval_s
            polled = consumer.poll(timeout_ms=500, max_records=MAX_RECORDS)
            messages = [m for batch in polled.values() for m in batch]
            if listener.unsought:
                continue  # read from where Kafka said, not PostgreSQL: seek first, read again
            if not messages:
                # Idle means nothing to read and nothing waiting in the outbox: balances the broker
                # has not taken yet are work left, so a broker slow to come back is waited for.
                if idle_exit_s is not None and outbox_due is None \
                        and time.monotonic() - idle_since >= idle_exit_s:
                    break
                if time.monotonic() - pinged >= PING_IDLE_S:
                    pinged = time.monotonic()
                    db.ping()
                continue
            idle_since = time.monotonic()
            handled, waiting = _handle(db.conn, group, consumer, deliverer, messages)
            health.commit()
            applied += handled
            if waiting and outbox_due is None:
                outbox_due = time.monotonic() + RETRY_OUTBOX_S
        except Exception as exc:
            if transient_postgres(exc) or classify("postgres", exc) is not None:
                db.failed(exc)
                listener.conn = db.conn
                # back to what PostgreSQL committed, before anything more is read
                listener.unsought.update(consumer.assignment())
                outbox_due = time.monotonic()
            elif transient_kafka(exc) or classify("kafka", exc) is not None:
                retry_kafka(db.retry, exc)
            else:
                raise
    if outbox_due is not None:
        log.warning("stopping with balances still in the outbox; the next run publishes them")
    return applied


def retry_kafka(retry: Retry, exc: BaseException) -> None:
    """A Kafka call failed (the client reconnects by itself): count it, wait, go on."""
    retry.failed("kafka", exc)


def _drain_on_start(db: Database, deliverer: Deliverer) -> int:
    while True:
        try:
            republished, waiting = drain_outbox(db.conn, deliverer)
            break
        except Exception as exc:
            if not transient_postgres(exc) and classify("postgres", exc) is None:
                raise
            db.failed(exc)
    if republished:
        log.warning("published %d balances a previous run committed but did not publish", republished)
    return waiting


def _handle(conn, group: str, consumer, deliverer: Deliverer, messages: list) -> tuple[int, int]:
    """Write one batch, publish its balances; returns (records applied, balances not published).
    The Kafka offsets are committed either way: the batch's balances are in the outbox, committed
    with the rows and the PostgreSQL offsets, and go out from there."""
    started = time.perf_counter()
    records = [to_sink_record(m) for m in messages]
    with BATCH_SECONDS.time():
        results = write_isolating_poison(conn, group, records, messages)
    committed_at = time.time()
    BATCHES.inc()
    for rec in records:
        RECORDS.labels(rec.topic).inc()
    _observe_latency([r for r in records if r.schema != "DeadLetter"], committed_at)
    balances = {b["account_id"]: b for res in results for b in res.balances}
    unpublished = publish_balances(conn, deliverer, list(balances.values()))
    offsets = writer.next_offsets(records)
    try:
        consumer.commit({TopicPartition(t, p): OffsetAndMetadata(o, "", -1)
                         for (t, p), o in offsets.items()})
    except KafkaError as exc:  # a rebalance mid-batch: harmless, PostgreSQL holds the real offsets
        log.warning("kafka offset commit failed (%s); PostgreSQL offsets stand", type(exc).__name__)
    log.info("batch: %d records, %d balances published in %.0f ms", len(records),
             len(balances) - unpublished, (time.perf_counter() - started) * 1000)
    return len(records), unpublished


def add_arguments(parser, name: str) -> None:
    parser.add_argument("--idle-exit", type=float, default=None, metavar="SECONDS",
                        help="exit after this many seconds without records (for scripts and tests)")
    parser.add_argument("--metrics-port", type=int, default=None,
                        help="Prometheus port on 127.0.0.1 (0 disables; default RCM_SINK_METRICS_PORT)")


def cmd_sink(args) -> int:
    settings = settings_mod.load()
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        applied = run_sink(settings, idle_exit_s=args.idle_exit, metrics_port=args.metrics_port)
    except Fatal as fatal:
        print(f"rcm sink: {fatal}", file=sys.stderr, flush=True)
        return fatal.code
    log.warning("sink stopped: %d records applied", applied)
    return 0
