"""Several `rcm process` workers in one group on a real broker and PostgreSQL give exactly the
results of one: a worker SIGKILLed and restarted mid-run, a worker added and one removed while
records flow, and every balance still equals the synthetic hospital's ground truth to the cent.

The remittances of every claim the pipeline builds are sent the 835 way, on
`remittances-unmatched` keyed by claim id with no account, so each must be joined with its claim
(repartitioned by claim id into `claim-index`) on whichever worker owns that claim id's
partition, then re-keyed by account and posted exactly once.
"""
from __future__ import annotations

import time
from dataclasses import replace

import pytest

from infra import pipeline, report
from infra.kafka_acls import ADMIN
from producers.publish import publish
from producers.synthetic import generate
from schemas import codec
from schemas import topics as T
from schemas.envelope import Outgoing

pytestmark = pytest.mark.e2e


def worker(settings, i: int) -> pipeline.Service:
    return pipeline.rcm_service("process", settings, settings.home / "logs" / f"worker-{i}").start()


def sink(settings) -> pipeline.Service:
    return pipeline.rcm_service("sink", settings, settings.home / "logs").start()


def count(dsn: str, sql: str) -> int:
    return report.query(dsn, sql)[0][0]


def wait_for(dsn: str, sql: str, at_least: int, services, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while count(dsn, sql) < at_least:
        for s in services:
            assert s.alive(), f"{s.name} exited:\n{s.tail()}"
        assert time.monotonic() < deadline, f"no progress to {at_least}: {sql}"
        time.sleep(0.2)


def built_claims(records) -> set[str]:
    """The claim ids the pipeline will build: encounters its own coder codes without review
    (processors.coding.rules, the same code and settings the workers run)."""
    from infra.settings import load
    from processors.chargemaster import load_charge_master
    from processors.coding.rules import Coder, code_encounter, validate_encounter

    coder, charge_master = Coder(), load_charge_master(None)
    threshold = load().coding_threshold
    claims = set()
    for r in records:
        if r.topic is not T.ENCOUNTERS or r.bad:
            continue
        enc = codec.decode_for(T.ENCOUNTERS, r.value)
        if validate_encounter(enc, charge_master, coder):
            continue
        kind, _ = code_encounter(enc, charge_master, coder, threshold)
        if kind == "coded":
            claims.add("CLM-" + enc["encounter_id"])
    return claims


def as_835(records) -> tuple[list, dict[str, str]]:
    """The records with every good remittance of a claim the pipeline builds moved to
    `remittances-unmatched` (key claim id, account ""); returns them and event id -> account."""
    claims = built_claims(records)
    out, moved = [], {}
    for r in records:
        if r.topic is T.REMITTANCES and not r.bad:
            remit = codec.decode_for(T.REMITTANCES, r.value)
            if remit["claim_id"] in claims:
                moved[remit["event_id"]] = remit["account_id"]
                unmatched = {**remit, "account_id": ""}
                r = Outgoing(T.REMITTANCES_UNMATCHED, remit["claim_id"].encode(),
                             codec.encode(T.REMITTANCES_UNMATCHED.value_schema, unmatched))
        out.append(r)
    return out, moved


def assert_exact(settings, scenario, moved: dict[str, str]) -> None:
    dsn, counts = settings.dsn, scenario.truth["counts"]
    problems = report.reconcile(dsn, scenario.truth)
    if problems:
        from lossprobe import probe
        print("loss probe written to", probe(settings, scenario, moved, problems))
    assert problems == []
    assert count(dsn, "select count(*) from dead_letters") == counts["dead_letters"]
    assert count(dsn, "select count(*) from denials") == counts["denial_adjustments"]
    # every remittance posted, each once, the 835 ones with their claim's account
    assert count(dsn, "select count(*) from remittances") == counts["good_by_topic"]["remittances"]
    posted = dict(report.query(dsn, "select event_id, account_id from remittances "
                                    "where event_id = any(%s)", (list(moved),)))
    assert posted == moved


def test_three_workers_with_one_sigkilled_and_restarted_give_exact_balances(run_settings):
    settings = replace(run_settings, log_level="INFO")
    scenario = generate(20_000, seed=31)
    records, moved = as_835(list(scenario.records))
    assert len(moved) > 1000
    half = len(records) // 2
    workers = [worker(settings, i) for i in range(3)]
    sink_ = sink(settings)
    try:
        publish(records[:half], settings, service=ADMIN)
        wait_for(settings.dsn, "select count(*) from ledger_entries", 2000, [*workers, sink_])
        workers[1].kill()  # SIGKILL mid-run: its partitions move, its uncommitted input returns
        publish(records[half:], settings, service=ADMIN)
        workers[1] = worker(settings, 1)
        pipeline.wait_drained(settings, [*workers, sink_], timeout=900)
    finally:
        for s in (*workers, sink_):
            s.stop()
    assert_exact(settings, scenario, moved)


def test_a_worker_added_and_one_removed_mid_run_give_exact_balances(run_settings):
    scenario = generate(8000, seed=37)
    records, moved = as_835(list(scenario.records))
    third = len(records) // 3
    workers = [worker(run_settings, 0)]
    sink_ = sink(run_settings)
    try:
        publish(records[:third], run_settings, service=ADMIN)
        wait_for(run_settings.dsn, "select count(*) from ledger_entries", 500, [*workers, sink_])
        workers.append(worker(run_settings, 1))  # added while records flow: a rebalance
        publish(records[third:2 * third], run_settings, service=ADMIN)
        pipeline.wait_joined(run_settings, workers[1])
        wait_for(run_settings.dsn, "select count(*) from ledger_entries", 1500, [*workers, sink_])
        workers.pop(0).stop()  # removed (SIGTERM) while records flow: another rebalance
        publish(records[2 * third:], run_settings, service=ADMIN)
        pipeline.wait_drained(run_settings, [*workers, sink_], timeout=900)
    finally:
        for s in (*workers, sink_):
            s.stop()
    assert_exact(run_settings, scenario, moved)


def test_rcm_process_workers_2_runs_two_members_of_one_group_with_exact_balances(run_settings):
    scenario = generate(3000, seed=43)
    records, moved = as_835(list(scenario.records))
    logs = run_settings.home / "logs"
    supervisor = pipeline.rcm_service("process", run_settings, logs, "--workers", "2").start()
    sink_ = sink(run_settings)
    try:
        publish(records, run_settings, service=ADMIN)
        deadline = time.monotonic() + 180
        while pipeline.group_state(run_settings, run_settings.app_id) != ("Stable", 2):
            assert supervisor.alive() and time.monotonic() < deadline, supervisor.tail()
            time.sleep(0.5)
        pipeline.wait_drained(run_settings, [supervisor, sink_], timeout=600)
    finally:
        stopped = supervisor.stop()  # SIGTERM: the supervisor stops both workers and exits 0
        sink_.stop()
    assert stopped == 0
    assert pipeline.group_state(run_settings, run_settings.app_id)[1] == 0
    assert_exact(run_settings, scenario, moved)
