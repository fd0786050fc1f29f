"""The composition root of `rcm process`: every stage, one faust agent per consumed topic, the
start-up checks, and the worker (or several).

`processors.app` holds the faust App, its tables and the shared reference data and imports no
stage; this module imports the stages and wires them to it, so the import graph of processors/
has no circle. A record is decoded once and handed to each stage on its topic in turn (coding and
charge posting both read `encounters`; ledger posting and denial flagging both read
`remittances`).

Before the worker joins its group it checks that every table a stage reads or writes is
co-partitioned with the stage's stream (processors.stage.check_copartitioned) and refuses to
start otherwise, and it reads the broadcast `scrub-rules` topic to its end. Several workers
(`rcm process --workers N`, or N `rcm process` anywhere with the same RCM_APP_ID) share the
partitions; faust's assignor gives one worker the same partition number of every topic with the
same partition count, so each worker holds whole accounts, claims and rules.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time

from processors import acks
from processors import app as A
from processors.claims.agent import ACCEPT_SUBMITTED, BILL_SECONDARY, BUILD_CLAIMS
from processors.coding.agent import CODE_ENCOUNTERS, RELEASE_CODING
from processors.denials.agent import APPLY_APPEALS, FLAG_DENIALS, WORK_DENIALS
from processors.ledger.agent import POST_CHARGES, POST_PAYMENTS, POST_REMITTANCES
from processors.matching.agent import INDEX_CLAIMS, LEARN_CLAIM_ACCOUNTS, MATCH_REMITTANCES
from processors.patterns.agent import (
    APPLY_RULE_DECISIONS,
    COUNT_DENIAL_PATTERNS,
    DETECT_DENIAL_PATTERNS,
)
from processors.stage import NotCopartitioned, Stage, check_copartitioned, run_batch
from processors.visits.agent import ASSEMBLE_VISITS
from schemas import topics as T

log = logging.getLogger("rcm.worker")

STAGES: tuple[Stage, ...] = (CODE_ENCOUNTERS, POST_CHARGES, RELEASE_CODING, BUILD_CLAIMS,
                             POST_REMITTANCES, FLAG_DENIALS, POST_PAYMENTS, ASSEMBLE_VISITS,
                             MATCH_REMITTANCES, INDEX_CLAIMS, LEARN_CLAIM_ACCOUNTS,
                             DETECT_DENIAL_PATTERNS, COUNT_DENIAL_PATTERNS, APPLY_RULE_DECISIONS,
                             BILL_SECONDARY, WORK_DENIALS, APPLY_APPEALS, ACCEPT_SUBMITTED)


def stages_on(topic: T.Topic) -> tuple[Stage, ...]:
    return tuple(s for s in STAGES if s.source is topic)


def _agent(topic: T.Topic):
    stages = stages_on(topic)
    assert sum(s.owner for s in stages) == 1, f"{topic.name} needs exactly one owner stage"

    async def handle(events) -> None:
        await run_batch(topic, events, stages, A.emitter())

    async def consume(stream):
        # in offset order per partition, committed only once processed and delivered
        async for events in stream.take_events(A.BATCH_MAX, A.BATCH_WITHIN_S):
            await acks.process(A.app.consumer, events, handle)

    consume.__name__ = consume.__qualname__ = f"consume_{topic.name.replace('-', '_')}"
    return A.app.agent(A.topic(topic), name=consume.__name__)(consume)


on_encounters = _agent(T.ENCOUNTERS)
on_coding_decisions = _agent(T.CODING_DECISIONS)
on_encounters_coded = _agent(T.ENCOUNTERS_CODED)
on_remittances = _agent(T.REMITTANCES)
on_payments = _agent(T.PAYMENTS)
on_visit_events = _agent(T.VISIT_EVENTS)
on_remittances_unmatched = _agent(T.REMITTANCES_UNMATCHED)
on_claims = _agent(T.CLAIMS)
on_claim_index = _agent(T.CLAIM_INDEX)
on_denial_patterns = _agent(T.DENIAL_PATTERNS)
on_scrub_rule_decisions = _agent(T.SCRUB_RULE_DECISIONS)
on_denials = _agent(T.DENIALS)
on_appeals = _agent(T.APPEALS)
on_claims_submitted = _agent(T.CLAIMS_SUBMITTED)


@A.app.timer(interval=2.0)
async def stop_with_supervisor() -> None:
    """A worker started by `rcm process --workers N` stops when its supervisor is gone (SIGKILL
    gives the supervisor no chance to stop it)."""
    parent = os.environ.get(SUPERVISOR_ENV)
    if parent and os.getppid() != int(parent):
        log.warning("supervisor %s is gone; stopping", parent)
        os.kill(os.getpid(), signal.SIGTERM)


SUPERVISOR_ENV = "RCM_WORKER_SUPERVISOR_PID"


def add_arguments(parser, name: str) -> None:
    parser.add_argument("--loglevel", default=A.SETTINGS.log_level.lower())
    parser.add_argument("--workers", type=int, default=1,
                        help="run N workers in one consumer group (each its own process)")


def cmd_process(args) -> int:
    try:
        check_copartitioned(STAGES)
    except NotCopartitioned as exc:
        print(f"rcm process: {exc}", file=sys.stderr)
        return 2
    if args.workers > 1:
        return supervise(args.workers, args.loglevel)
    return run_worker(args.loglevel)


def run_worker(loglevel: str) -> int:
    import faust

    from infra.health import watch_faust
    from processors.broadcast import TopicMirror

    acks.install()  # each input partition in offset order; commits only what was delivered
    A.reference()  # load before consuming so the first batch does not stall a poll interval
    watch_faust(A.app, A.SETTINGS)  # metrics, /healthz, /readyz; waits for a broker (issue 15)
    A.scrub_rules_mirror = TopicMirror(T.SCRUB_RULES, A.SETTINGS.bootstrap).start()
    worker = faust.Worker(A.app, loglevel=loglevel, quiet=True)
    worker.spinner = None  # a terminal spinner only writes escape codes into service logs
    worker.execute_from_commandline()
    return 0


def supervise(n: int, loglevel: str) -> int:
    """Run n workers as child processes in one group; restart one that exits on its own (exit 75:
    output not acknowledged, its input is redelivered); SIGTERM/SIGINT stop them all."""
    argv = [sys.executable, "-m", "infra.cli", "process", "--workers", "1", "--loglevel", loglevel]
    env = {**os.environ, SUPERVISOR_ENV: str(os.getpid())}
    if A.SETTINGS.processor_metrics_port:  # one port per worker: port, port+1, ...
        ports = [str(A.SETTINGS.processor_metrics_port + i) for i in range(n)]
    else:
        ports = ["0"] * n
    stopping = []

    def start(i: int) -> subprocess.Popen:
        return subprocess.Popen(argv, env={**env, "RCM_PROCESSOR_METRICS_PORT": ports[i]})

    def on_signal(signum, _frame) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    children = [start(i) for i in range(n)]
    while not stopping:
        for i, child in enumerate(children):
            if child.poll() is not None:
                log.warning("worker %d exited %s; starting it again", i, child.returncode)
                children[i] = start(i)
        time.sleep(0.5)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    return 0
