"""End to end on a real Kafka broker and PostgreSQL: the commands a user runs (`rcm process`,
`rcm sink`) as child processes, fed by the synthetic hospital, checked against its ground truth."""
from __future__ import annotations

import time

import pytest

from infra import pipeline, report
from producers.publish import publish
from producers.synthetic import generate

pytestmark = pytest.mark.e2e


def start(settings, workers: int = 1):
    """`workers` separate `rcm process` in one group (each can be SIGKILLed), and `rcm sink`."""
    logs = settings.home / "logs"
    return ([pipeline.rcm_service("process", settings, logs / f"worker-{i}").start()
             for i in range(workers)],
            pipeline.rcm_service("sink", settings, logs).start())


def stop_all(*services):
    for s in services:
        s.stop()


def run_to_completion(settings, records, workers: int = 1) -> None:
    processors, sink = start(settings, workers)
    try:
        publish(records, settings)
        pipeline.wait_drained(settings, [*processors, sink], timeout=600)
    finally:
        stop_all(*processors, sink)


# The tests below run with one worker and with three in one group: the same results.
WORKERS = pytest.mark.parametrize("workers", [1, 3], ids=["1-worker", "3-workers"])


def count(dsn: str, sql: str) -> int:
    return report.query(dsn, sql)[0][0]


def test_every_balance_matches_the_ground_truth_to_the_cent(run_settings):
    scenario = generate(4000, seed=11)
    run_to_completion(run_settings, scenario.records)
    dsn = run_settings.dsn
    assert report.reconcile(dsn, scenario.truth) == []
    counts = scenario.truth["counts"]
    assert count(dsn, "select count(*) from account_balances") == len(scenario.truth["accounts"])
    assert count(dsn, "select count(*) from dead_letters") == counts["dead_letters"]
    assert count(dsn, "select count(*) from denials") == counts["denial_adjustments"]
    assert count(dsn, "select coalesce(sum(amount_cents), 0) from denials") == counts["denial_cents"]
    coded = count(dsn, "select count(*) from encounters_coded")
    review = count(dsn, "select count(*) from coding_review")
    assert coded + review == counts["encounters"]
    # one claim per coded encounter, whatever its versions, plus one per secondary billed
    assert count(dsn, "select count(*) from claims where payer_sequence = 'PRIMARY'") == count(
        dsn, "select count(distinct encounter_id) from encounters_coded")
    assert count(dsn, "select count(*) from claims where payer_sequence = 'SECONDARY'") == \
        counts["secondary_claims"] > 0
    # a re-sent (corrected) encounter is version 2 of its claim, when coding let it through
    resent = count(dsn, """select count(*) from (select encounter_id from encounters_coded
                                                 group by 1 having count(*) = 2) twice""")
    assert count(dsn, "select count(*) from claims where version = 2") == resent
    assert 0.8 * counts["corrected_encounters"] <= resent <= counts["corrected_encounters"]
    assert review >= counts["vague_encounters"] + counts["em_review_encounters"]
    # The only scrub failure the hospital injects is a double-keyed charge; some of those
    # encounters stop earlier, in coding review.
    held_edits = report.query(dsn, """select e->>'edit', count(distinct claim_id) from claims,
                                      jsonb_array_elements(edits) e group by 1""")
    assert [edit for edit, _n in held_edits] == ["DUPLICATE_LINE"]
    held = count(dsn, "select count(*) from claims where status = 'HELD'")
    assert 0 < held <= counts["held_encounters"] and held == held_edits[0][1]
    # Every appeal step the billing system sent was accepted, write-offs left insurance exactly.
    assert count(dsn, "select count(*) from denial_events where action <> 'EXPIRED'") == \
        counts["appeal_events"]
    assert count(dsn, """select coalesce(-sum(insurance_delta_cents), 0) from ledger_entries
                         where kind = 'DENIAL_WRITE_OFF'""") == counts["denial_write_off_cents"]
    statuses = dict(report.query(dsn, "select status, count(*) from claim_current_status group by 1"))
    assert statuses.get("CLOSED", 0) > 0 and statuses.get("APPEALED", 0) > 0


@WORKERS
def test_balances_stay_exact_after_sigkill_of_processor_and_sink(run_settings, workers):
    scenario = generate(6000, seed=23)
    records = list(scenario.records)
    processors, sink = start(run_settings, workers)
    try:
        publish(records[:3000], run_settings)
        deadline = time.monotonic() + 180
        while count(run_settings.dsn, "select count(*) from ledger_entries") < 500:
            assert time.monotonic() < deadline, "the pipeline made no progress before the crash"
            time.sleep(0.2)
        for p in processors:
            p.kill()
        sink.kill()
        processors, sink = start(run_settings, workers)
        publish(records[3000:], run_settings)
        time.sleep(3)
        sink.kill()  # a second crash, of the sink alone, while it catches up
        sink = pipeline.rcm_service("sink", run_settings, run_settings.home / "logs").start()
        pipeline.wait_drained(run_settings, [*processors, sink], timeout=900)
    finally:
        stop_all(*processors, sink)
    dsn = run_settings.dsn
    assert report.reconcile(dsn, scenario.truth) == []
    assert count(dsn, "select count(*) from dead_letters") == scenario.truth["counts"]["dead_letters"]
    assert count(dsn, "select count(*) from denials") == scenario.truth["counts"]["denial_adjustments"]


@WORKERS
def test_bad_records_are_dead_lettered_with_reasons_and_the_partition_keeps_flowing(run_settings,
                                                                                    workers):
    scenario = generate(2000, seed=5)
    run_to_completion(run_settings, scenario.records, workers)
    dsn = run_settings.dsn
    by_error = dict(report.query(dsn, "select error, count(*) from dead_letters group by 1"))
    cats = scenario.truth["counts"]["bad_by_category"]
    assert by_error.get("MALFORMED", 0) == cats["MALFORMED"]
    assert by_error.get("UNKNOWN_SCHEMA", 0) == cats["UNKNOWN_SCHEMA"]
    invalid = cats["INVALID_CODE"] + cats["IMPOSSIBLE_AMOUNT"] + cats["BAD_ACCOUNT_ID"]
    assert by_error.get("INVALID", 0) == invalid
    reasons = [r for (r,) in report.query(dsn, "select reason from dead_letters")]
    assert all(reasons) and any("account id is empty" in r for r in reasons)
    assert any("not in the charge master" in r for r in reasons)
    # Records after each bad one on the same partition were processed: balances are exact.
    assert report.reconcile(dsn, scenario.truth) == []
