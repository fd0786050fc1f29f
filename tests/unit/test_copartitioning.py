"""The worker's start-up check: every table a stage reads or writes is co-partitioned with the
stage's stream (placed by the stream's key field, same partition count), else it refuses to start
and names the table and the stream."""
from __future__ import annotations

import argparse
from dataclasses import replace

import pytest

from processors import state as S
from processors.stage import NotCopartitioned, Stage, check_copartitioned, copartitioning_errors
from schemas import topics as T


def noop(rec: dict):
    return []


def test_every_stage_of_the_worker_is_co_partitioned_with_its_state():
    from infra.settings import load
    from processors.context import Context
    from processors.worker import build_stages

    stages = build_stages(Context(load()))
    assert copartitioning_errors(stages) == []
    declared = {st for stage in stages for st in (*stage.reads, *stage.writes)}
    assert declared == set(S.STATES)  # every table has a stage that declares it


def test_the_claim_table_read_from_the_account_keyed_claims_stream_is_refused():
    # what index_claims did before claims were repartitioned by claim id
    stage = Stage("index_claims", T.CLAIMS, noop, reads=(S.CLAIM_ACCOUNTS,),
                  writes=(S.CLAIM_ACCOUNTS,))
    with pytest.raises(NotCopartitioned) as exc:
        check_copartitioned([stage])
    msg = str(exc.value)
    assert "stage index_claims reads table claim-accounts (placed by claim_id) from stream " \
           "claims (keyed by account_id)" in msg
    assert "stage index_claims writes table claim-accounts" in msg


def test_scrub_rules_read_as_a_table_by_the_claim_builder_are_refused_but_broadcast_is_not():
    as_table = Stage("build_claims", T.ENCOUNTERS_CODED, noop, reads=(S.SCRUB_RULES,))
    assert copartitioning_errors([as_table]) == [
        ("stage build_claims reads table scrub-rules (placed by rule_id) from stream "
        "encounters-coded (keyed by account_id)")]
    broadcast = Stage("build_claims", T.ENCOUNTERS_CODED, noop, broadcast=(T.SCRUB_RULES,))
    assert copartitioning_errors([broadcast]) == []


def test_a_table_with_another_partition_count_is_refused():
    wider = S.State(replace(T.CLAIM_STATE, partitions=T.PARTITIONS * 2), "account_id")
    stage = Stage("build_claims", T.ENCOUNTERS_CODED, noop, reads=(wider,))
    assert copartitioning_errors([stage]) == [
        (f"stage build_claims reads table claim-state ({T.PARTITIONS * 2} partitions) from stream "
        f"encounters-coded ({T.PARTITIONS} partitions)")]


def test_a_table_placed_by_the_streams_key_is_accepted():
    stage = Stage("bill_secondary", T.REMITTANCES, noop, reads=(S.CLAIM_STATE,),
                  writes=(S.CLAIM_STATE,))
    assert copartitioning_errors([stage]) == []


def test_rcm_process_refuses_to_start_with_a_mis_declared_stage(monkeypatch, capsys):
    from processors import worker

    bad = Stage("match_remittances", T.REMITTANCES, noop, reads=(S.CLAIM_ACCOUNTS,))
    build = worker.build_stages
    monkeypatch.setattr(worker, "build_stages", lambda ctx: (*build(ctx), bad))
    started = []
    monkeypatch.setattr(worker, "run_worker", lambda *a: started.append(a) or 0)
    monkeypatch.setattr(worker, "supervise", lambda *a: started.append(a) or 0)
    code = worker.cmd_process(argparse.Namespace(loglevel="info", workers=1))
    assert code == 2 and started == []
    err = capsys.readouterr().err
    assert "table claim-accounts" in err and "stream remittances" in err
