"""Publish the sink's committed balances and its KPIs on a thread of their own.

Produces: account-balances (key: account_id, value: AccountBalanceUpdated);
          kpis and ar-aging-snapshots every RCM_KPI_INTERVAL_S (sinks.postgres.kpi_publish)

The write path hands each committed batch's balances over and goes on with the next batch: it
never waits for the broker. Every touched account is in `balance_outbox`, committed with its
rows, and leaves it only once the broker acknowledged its balance; what the broker did not take
(or what a crash left) is published from the outbox again, every RETRY_OUTBOX_S. The thread has
its own PostgreSQL connection (the writer's is busy with the next batch) and its own backoff.

Several sinks (a handover, `--workers N`) relay one outbox. A relay locks the accounts' outbox rows,
reads their balances after the lock, and keeps the lock until the broker answered: per account one
relay at a time, each sending a balance no older than the last one sent, so the topic's last record
is PostgreSQL's balance whatever the interleaving (docs/operations.md, "balances").
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from kafka import KafkaProducer
from prometheus_client import Counter
from psycopg2.extensions import TRANSACTION_STATUS_IDLE

from infra.delivery import Deliverer, producer_config
from infra.kafka_auth import client_options
from infra.reconnect import Stopped, classify, transient_postgres
from schemas import codec
from schemas.topics import ACCOUNT_BALANCES
from sinks.postgres import kpi_publish, writer

log = logging.getLogger("rcm.sink")

RETRY_OUTBOX_S = 1.0  # after a publication failed, try the outbox again this often (at most)

UNPUBLISHED = Counter("rcm_sink_balances_unpublished_total",
                      "Balance publications the broker did not acknowledge (kept in the outbox)")


@dataclass(frozen=True)
class Relayed:
    """One relay pass: balances sent and acknowledged, not acknowledged, and accounts left in the
    outbox for a later pass (held by another relay, or changed while this one was sending)."""

    sent: int = 0
    missing: int = 0
    left: int = 0


def relay(conn, deliverer: Deliverer, accounts: list[str] | None = None,
          limit: int = 10_000) -> Relayed:
    """Publish the balances of the outbox rows this relay can lock (of `accounts`, or any), in one
    transaction held until the broker answered: another relay (another sink process) never sends
    an account meanwhile, so an older balance never lands after a newer one. A relay that dies
    mid-send leaves its rows in the outbox (the transaction rolls back)."""
    if conn.get_transaction_status() != TRANSACTION_STATUS_IDLE:
        conn.rollback()  # a read left open: the relay's transaction (READ COMMITTED) is its own
    try:
        with conn.cursor() as cur:
            balances = writer.lock_outbox(cur, accounts, limit)
            report = deliverer.deliver(balances, _balance_send) if balances else None
            missing = set(report.missing) if report else set()
            acked = [b for i, b in enumerate(balances) if i not in missing]
            cleared = writer.clear_outbox(cur, acked)
        conn.commit()
    except BaseException:
        writer.rollback(conn)
        raise
    if missing:
        UNPUBLISHED.inc(len(missing))
        log.warning("%d of %d balances not acknowledged (%s); kept in the outbox", len(missing),
                    len(balances), ", ".join(report.errors))
    asked = len(balances) if accounts is None else len(set(accounts))
    return Relayed(len(acked), len(missing), asked - cleared)


def publish_balances(conn, deliverer: Deliverer, balances: list[dict]) -> int:
    """Publish the committed balances of these accounts (read again under the outbox lock: the
    values given may be older already); returns how many were not published (they stay in the
    outbox for the next drain)."""
    if not balances:
        return 0
    return relay(conn, deliverer, [b["account_id"] for b in balances]).left


def _balance_send(balance: dict):
    return (ACCOUNT_BALANCES.name, codec.key_of(ACCOUNT_BALANCES, balance),
            codec.encode(ACCOUNT_BALANCES.value_schema, balance))


def drain_outbox(conn, deliverer: Deliverer) -> tuple[int, int]:
    """Publish what a crash, a failed publication or another relay left in the outbox; returns
    (balances published, accounts still waiting). Stops at the first pass the broker did not fully
    take; rows another relay holds count as waiting (that relay may die before it sends)."""
    sent = 0
    for _ in range(100):  # bounded: another sink may keep re-queueing accounts it is updating
        done = relay(conn, deliverer)
        sent += done.sent
        if done.missing:
            return sent, writer.outbox_size(conn)
        if not done.sent and not done.left:
            break
    return sent, writer.outbox_size(conn)


def balance_deliverer(settings, attempts: int = 1) -> Deliverer:
    """The sink publishes each batch's balances once; the outbox is its retry (RETRY_OUTBOX_S)."""
    config = producer_config(settings.bootstrap, settings.delivery_timeout_s,
                             f"{settings.app_id}-sink-balances")
    config.update(client_options("sink", settings=settings))
    return Deliverer(lambda: KafkaProducer(**config), settings.delivery_timeout_s, attempts)


class Publisher(threading.Thread):
    """The sink's publishing thread: `hand_over` committed balances; `idle` once nothing waits."""

    def __init__(self, settings, db, deliverer: Deliverer, halt: threading.Event,
                 on_fatal: threading.Event) -> None:
        """db: a sink Database of its own whose Retry waits on `halt`; `on_fatal` is set when the
        thread meets a fault it cannot fix (the main loop then raises `error`)."""
        super().__init__(name="rcm-sink-publisher", daemon=True)
        self.settings, self.db, self.deliverer = settings, db, deliverer
        self.halt, self.on_fatal = halt, on_fatal
        self.wake = threading.Event()
        self.lock = threading.Lock()
        self.handed: dict[str, dict] = {}  # account -> its latest committed balance
        self.drain_due = True  # at start: what a crash left in the outbox
        self.waiting = 0  # balances the broker did not take at the last attempt
        self.busy = True
        self.error: BaseException | None = None  # a fault it cannot fix, for the main loop

    def hand_over(self, balances: list[dict]) -> None:
        if balances:
            with self.lock:
                self.handed.update((b["account_id"], b) for b in balances)
                self.busy = True
            self.wake.set()

    def idle(self) -> bool:
        with self.lock:
            return not self.busy and not self.handed and self.waiting == 0 and not self.drain_due

    def run(self) -> None:
        try:
            self.db.connect()
            self._loop()
        except Stopped:
            pass
        except BaseException as exc:  # noqa: BLE001 (handed to the main loop, which raises it)
            self.error = exc
            self.on_fatal.set()
        finally:
            self.db.close()

    def _loop(self) -> None:
        kpis_due = time.monotonic() + self.settings.kpi_interval_s
        retry_at = 0.0
        while True:
            halting = self.halt.is_set()  # then one last pass: publish what was handed over
            self.wake.clear()
            with self.lock:
                handed, self.handed = list(self.handed.values()), {}
                self.busy = bool(handed) or self.drain_due or self.waiting > 0
            try:
                if handed:
                    self.waiting += publish_balances(self.db.conn, self.deliverer, handed)
                if (self.drain_due or self.waiting) and time.monotonic() >= retry_at:
                    republished, self.waiting = drain_outbox(self.db.conn, self.deliverer)
                    if republished and self.drain_due:
                        log.warning("published %d balances committed but not published before",
                                    republished)
                    self.drain_due = False
                    retry_at = time.monotonic() + RETRY_OUTBOX_S if self.waiting else 0.0
                if self.settings.kpi_interval_s > 0 and time.monotonic() >= kpis_due:
                    kpi_publish.publish_safely(self.db.conn, self.deliverer)
                    kpis_due = time.monotonic() + self.settings.kpi_interval_s
            except Exception as exc:
                if not transient_postgres(exc) and classify("postgres", exc) is None:
                    raise
                self.drain_due = True  # what was handed over is in the outbox: drain it
                self.db.failed(exc)
            with self.lock:
                self.busy = False
            if halting:
                return
            self.wake.wait(0.2)

    def close(self, timeout: float = 10.0) -> None:
        self.halt.set()
        self.wake.set()
        if self.is_alive():
            self.join(timeout)
        if self.waiting or self.handed or self.drain_due:
            log.warning("stopping with balances still in the outbox; the next run publishes them")
