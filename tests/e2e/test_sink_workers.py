"""Several sink processes in one group (issue 10 part 5): one SIGKILLed mid-run, started again.

`rcm process` and two `rcm sink` share the session's broker and a fresh database while the
synthetic hospital streams in. Once both sinks hold partitions and write, one is SIGKILLed: its
partitions go to the other, which seeks to the offsets PostgreSQL stored with the data. Then it is
started again (another rebalance, mid-stream). Every record is applied exactly once: balances
equal the ground truth, every account's balance is the sum of its stored entries, and the last
record of every account on `account-balances` is its balance in PostgreSQL (never an older one).
"""
from __future__ import annotations

import threading
import time

import pytest
from kafka import KafkaConsumer

from infra import pipeline, report
from producers.publish import publish
from producers.synthetic import generate
from schemas import codec
from schemas.topics import ACCOUNT_BALANCES
from tests.support.kafka_client import kafka_options

pytestmark = pytest.mark.e2e


def count(dsn: str, sql: str) -> int:
    return report.query(dsn, sql)[0][0]


def wait_for(what: str, check, services, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        tails = "\n".join(f"--- {s.name} ---\n{s.tail()}" for s in services)
        assert time.monotonic() < deadline, f"{what} did not happen:\n{tails}"
        time.sleep(0.2)


def feed(records, settings) -> threading.Thread:
    feeder = threading.Thread(target=publish, args=(records, settings),
                              kwargs={"rate": 500.0}, daemon=True)
    feeder.start()
    return feeder


def last_published(bootstrap: str) -> dict[str, tuple[int, int]]:
    """Per account, the last (entries, total) on account-balances, and that the entries it went
    through never went back (one partition per account: log order is publication order)."""
    consumer = KafkaConsumer(ACCOUNT_BALANCES.name, **kafka_options(bootstrap),
                             auto_offset_reset="earliest", consumer_timeout_ms=5000)
    last: dict[str, tuple[int, int]] = {}
    for msg in consumer:
        b = codec.decode_for(ACCOUNT_BALANCES, msg.value)
        before = last.get(b["account_id"], (0, 0))
        assert b["entries"] >= before[0], "an older balance was published after a newer one"
        last[b["account_id"]] = (b["entries"], b["total_cents"])
    consumer.close()
    return last


def test_two_sinks_one_killed_mid_run_apply_every_record_exactly_once(run_settings):
    settings = run_settings
    logs = settings.home / "logs"
    scenario = generate(5000, seed=23)
    processor = pipeline.rcm_service("process", settings, logs).start()
    sinks = [pipeline.rcm_service("sink", settings, logs / f"sink-{i}").start() for i in range(2)]
    everyone = [processor, *sinks]
    records = list(scenario.records)
    half = len(records) * 3 // 5
    try:
        feeder = feed(records[:half], settings)
        wait_for("both sinks writing", lambda: all(
            "batch:" in (s.log.read_text() if s.log.exists() else "") for s in sinks)
            and pipeline.group_state(settings, settings.sink_group)[1] == 2, everyone)
        before = count(settings.dsn, "select count(*) from ledger_entries")
        wait_for("more ledger rows", lambda: count(
            settings.dsn, "select count(*) from ledger_entries") > before + 500, everyone)
        sinks[0].kill()  # SIGKILL, mid-batch as likely as not
        wait_for("the other sink taking over", lambda: count(
            settings.dsn, "select count(*) from ledger_entries") > before + 1500, everyone)
        sinks[0].start()  # joins again: another rebalance while records flow
        feeder.join(timeout=300)
        feeder = feed(records[half:], settings)
        feeder.join(timeout=300)
        assert not feeder.is_alive(), "the synthetic hospital could not publish"
        pipeline.wait_drained(settings, everyone, timeout=600)
    finally:
        for s in everyone:
            s.stop()
    dsn = settings.dsn
    assert report.reconcile(dsn, scenario.truth) == []
    assert count(dsn, """select count(*) from account_balances b
        left join (select account_id, count(*) n, sum(insurance_delta_cents + patient_delta_cents) t
                   from ledger_entries group by account_id) e using (account_id)
        where b.entries <> e.n or b.total_cents <> e.t""") == 0
    counts = scenario.truth["counts"]
    assert count(dsn, "select count(*) from dead_letters") == counts["dead_letters"]
    assert count(dsn, "select count(*) from denials") == counts["denial_adjustments"]
    assert count(dsn, "select count(*) from encounters_coded") + count(
        dsn, "select count(*) from coding_review") == counts["encounters"]
    assert count(dsn, "select count(*) from balance_outbox") == 0
    stored = {a: (n, total) for a, n, total in
              report.query(dsn, "select account_id, entries, total_cents from account_balances")}
    assert last_published(settings.bootstrap) == stored  # the handovers left no stale balance
