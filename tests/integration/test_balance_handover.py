"""Two outbox relays over the same accounts (a sink handover): `account-balances` never ends on an
older balance than PostgreSQL's, and a relay that dies mid-send loses nothing.

Each race is made deterministic: one relay is held between reading a balance and sending it (its
deliverer waits), or a writer is held between changing a balance and committing it.
"""
from __future__ import annotations

import dataclasses
import random
import threading
import time

import psycopg2
import psycopg2.extensions
from kafka import KafkaConsumer

from infra.health import Health
from infra.reconnect import Retry
from processors.ledger.rules import entries_for_payment, journals
from schemas import codec
from schemas.topics import ACCOUNT_BALANCES, LEDGER_ENTRIES
from sinks.postgres.publisher import Publisher
from sinks.postgres.service import Database, balance_deliverer, drain_outbox, publish_balances
from sinks.postgres.writer import SinkRecord, write_batch
from tests import factories as f
from tests.integration.test_sink_service import ledger, query, settings_for
from tests.support.kafka_client import kafka_options

GROUP = "handover-test"
WAIT_S = 30


class HeldDeliverer:
    """Delivers like the one it wraps, but first waits, with what it was given, until `go`."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.reached, self.go = threading.Event(), threading.Event()

    def deliver(self, records, to_send=None, **kwargs):
        self.reached.set()
        assert self.go.wait(WAIT_S), "the test never let the held relay go on"
        return self.inner.deliver(records, to_send, **kwargs)

    def close(self) -> None:
        self.inner.close()


class HeldCommit(psycopg2.extensions.connection):
    """A connection whose next commit waits until `go` (a writer between its change and its commit)."""

    def hold(self) -> None:
        self.reached, self.go = threading.Event(), threading.Event()

    def commit(self) -> None:
        if hasattr(self, "go"):
            self.reached.set()
            assert self.go.wait(WAIT_S), "the test never let the held writer commit"
        super().commit()


class Relay(threading.Thread):
    """One relay pass on a thread of its own; keeps what it raised."""

    def __init__(self, dsn: str, deliverer, balances: list[dict]) -> None:
        super().__init__(daemon=True)
        self.conn = psycopg2.connect(dsn)
        self.deliverer, self.balances = deliverer, balances
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            publish_balances(self.conn, self.deliverer, self.balances)
        except BaseException as exc:  # noqa: BLE001 (the test looks at it)
            self.error = exc

    def finish(self) -> None:
        self.join(WAIT_S)
        assert not self.is_alive()
        self.conn.close()


def records(entries: list[dict], offset: int) -> list[SinkRecord]:
    return [SinkRecord(LEDGER_ENTRIES.name, 0, offset + i, LEDGER_ENTRIES.value_schema, j)
            for i, j in enumerate(journals(entries))]


def payments(accounts: list[str], cents: int, n: int) -> list[dict]:
    return [e for i, account in enumerate(accounts)
            for e in entries_for_payment(f.payment(n + i, cents=cents, account_id=account))]


def writer_connection(dsn: str, factory=psycopg2.extensions.connection):
    """A writer that would wait on a relay's lock fails after 5 s instead (the test then fails)."""
    return psycopg2.connect(dsn, options="-c lock_timeout=5000", connection_factory=factory)


def topic_history(bootstrap: str) -> dict[str, list[tuple[int, int]]]:
    """Per account, every (entries, total_cents) published, in log order."""
    consumer = KafkaConsumer(ACCOUNT_BALANCES.name, **kafka_options(bootstrap),
                             auto_offset_reset="earliest", consumer_timeout_ms=3000)
    history: dict[str, list[tuple[int, int]]] = {}
    for msg in consumer:
        b = codec.decode_for(ACCOUNT_BALANCES, msg.value)
        history.setdefault(b["account_id"], []).append((b["entries"], b["total_cents"]))
    consumer.close()
    return history


def assert_topic_ends_on_postgres(bootstrap: str, dsn: str) -> dict[str, list[tuple[int, int]]]:
    history = topic_history(bootstrap)
    stored = {a: (n, total) for a, n, total in
              query(dsn, "SELECT account_id, entries, total_cents FROM account_balances")}
    assert {a: published[-1] for a, published in history.items()} == stored
    for published in history.values():  # never back to an older balance on the way either
        assert published == sorted(published, key=lambda p: p[0])
    assert query(dsn, "SELECT count(*) FROM balance_outbox") == [(0,)]
    return history


def test_a_relay_held_between_its_read_and_its_send_never_lands_an_older_balance_last(
        fresh_topics, database_url):
    settings = settings_for(fresh_topics, database_url)
    accounts = [f.encounter(n)["account_id"] for n in (1, 2)]
    conn = writer_connection(database_url)
    first = write_batch(conn, GROUP, records(ledger(1) + ledger(2), 0))
    held = HeldDeliverer(balance_deliverer(settings))
    taken_over = balance_deliverer(settings)
    a = Relay(database_url, held, first.balances)
    relay_b = psycopg2.connect(database_url)
    try:
        a.start()
        assert held.reached.wait(WAIT_S)  # relay A read the first balances and is about to send
        # Sink B took the partition over: it commits newer balances and relays them at once.
        second = write_batch(conn, GROUP, records(payments(accounts, 700, 50), 100))
        assert len(second.balances) == 2
        publish_balances(relay_b, taken_over, second.balances)
        held.go.set()
        a.finish()
        assert a.error is None
        drain_outbox(relay_b, taken_over)
    finally:
        held.go.set()
        conn.close()
        relay_b.close()
        held.close()
        taken_over.close()
    history = assert_topic_ends_on_postgres(fresh_topics, database_url)
    assert set(history) == set(accounts)


def test_a_balance_committed_while_a_relay_clears_the_outbox_stays_queued(fresh_topics, database_url):
    settings = settings_for(fresh_topics, database_url)
    account = f.encounter(3)["account_id"]
    conn = writer_connection(database_url, HeldCommit)
    first = write_batch(conn, GROUP, records(ledger(3), 0))
    held = HeldDeliverer(balance_deliverer(settings))
    a = Relay(database_url, held, first.balances)
    w_error: list[BaseException] = []

    def write_second() -> None:
        try:
            write_batch(conn, GROUP, records(payments([account], 900, 60), 100))
        except BaseException as exc:  # noqa: BLE001 (the test looks at it)
            w_error.append(exc)

    w = threading.Thread(target=write_second, daemon=True)
    try:
        a.start()
        assert held.reached.wait(WAIT_S)  # relay A holds the account, about to send its balance
        conn.hold()
        w.start()
        # The writer changes the balance and queues the account while A holds its outbox row: it
        # never waits for a relay (lock_timeout would fail it), and stops just before its commit.
        assert conn.reached.wait(WAIT_S) and not w_error
        held.go.set()  # A sends the older balance and clears what the broker acknowledged
        a.finish()
        assert a.error is None
        conn.go.set()
        w.join(WAIT_S)
        assert not w.is_alive() and not w_error
        # The writer's sink dies before it publishes: the outbox alone must still hold the account.
        assert query(database_url, "SELECT count(*) FROM balance_outbox") == [(1,)]
        relay_b = psycopg2.connect(database_url)
        deliverer = balance_deliverer(settings)
        try:
            drain_outbox(relay_b, deliverer)
        finally:
            relay_b.close()
            deliverer.close()
    finally:
        held.go.set()
        if hasattr(conn, "go"):
            conn.go.set()
        held.close()
        conn.close()
    history = assert_topic_ends_on_postgres(fresh_topics, database_url)
    assert len(history[account]) == 2


def test_a_relay_that_dies_mid_send_leaves_its_accounts_in_the_outbox(fresh_topics, database_url):
    settings = settings_for(fresh_topics, database_url)
    conn = writer_connection(database_url)
    first = write_batch(conn, GROUP, records(ledger(4) + ledger(5), 0))
    held = HeldDeliverer(balance_deliverer(settings))
    a = Relay(database_url, held, first.balances)
    relay_b = psycopg2.connect(database_url)
    deliverer = balance_deliverer(settings)
    try:
        a.start()
        assert held.reached.wait(WAIT_S)
        # While A holds the accounts, B neither sends them nor forgets them: they wait for it.
        assert drain_outbox(relay_b, deliverer) == (0, 2)
        write_batch(conn, GROUP, records(payments([b["account_id"] for b in first.balances],
                                                  300, 70), 100))
        query(database_url, f"SELECT pg_terminate_backend({a.conn.get_backend_pid()})")  # A dies
        held.go.set()
        a.finish()
        assert isinstance(a.error, psycopg2.Error)  # its clear never committed...
        assert query(database_url, "SELECT count(*) FROM balance_outbox") == [(2,)]  # ...nor lost
        assert drain_outbox(relay_b, deliverer) == (2, 0)
    finally:
        held.go.set()
        conn.close()
        relay_b.close()
        held.close()
        deliverer.close()
    assert_topic_ends_on_postgres(fresh_topics, database_url)


class Jittery:
    """Delivers like the one it wraps, after a random pause (a seeded one): relays interleave."""

    def __init__(self, inner, seed: int) -> None:
        self.inner, self.random = inner, random.Random(seed)

    def deliver(self, records, to_send=None, **kwargs):
        time.sleep(self.random.uniform(0, 0.05))
        return self.inner.deliver(records, to_send, **kwargs)

    def close(self) -> None:
        self.inner.close()


def test_two_sinks_writing_and_relaying_the_same_accounts_end_on_postgres(
        fresh_topics, database_url):
    """Two sinks' writers and publisher threads over the same accounts, as around a handover:
    each batch goes to one sink's writer and its publisher, in turns, with no pause between."""
    settings = dataclasses.replace(settings_for(fresh_topics, database_url), kpi_interval_s=0)
    accounts = [f.encounter(n)["account_id"] for n in range(10, 20)]
    conns = [writer_connection(database_url) for _ in range(2)]
    halt, fatal = threading.Event(), threading.Event()
    publishers = [Publisher(settings, Database(database_url, Retry(
        "test publisher", 0.1, 1.0, halt), Health("sink")),
        Jittery(balance_deliverer(settings), seed), halt, fatal) for seed in range(2)]
    for p in publishers:
        p.start()
    try:
        offset = 0
        for n, batch in enumerate([ledger(i) for i in range(10, 20)] + [
                payments(accounts, 100 + 10 * k, 1000 + 100 * k) for k in range(12)]):
            sink = n % 2
            result = write_batch(conns[sink], GROUP, records(batch, offset))
            offset += len(journals(batch))
            publishers[sink].hand_over(result.balances)
        deadline = time.monotonic() + 60
        while not all(p.idle() for p in publishers):
            assert time.monotonic() < deadline and not fatal.is_set(), "publishers never settled"
            time.sleep(0.1)
    finally:
        for p in publishers:
            p.close()
            p.deliverer.close()
        for conn in conns:
            conn.close()
    assert not fatal.is_set()
    history = assert_topic_ends_on_postgres(fresh_topics, database_url)
    assert set(history) == set(accounts)
