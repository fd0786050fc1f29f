"""The composition root of `rcm process`: every stage built with its stores, reference data and
settings, the start-up checks, and the worker (or several).

`processors.app` builds only the faust App (the worker shell) and imports no stage;
`processors.context` holds one worker's tables and reference data; each stage module builds its
stages from a context; this module builds the context and the stages and hands them to the batch
loop (processors.runtime), so the import graph of processors/ has no circle. A record is decoded
once and handed to each stage on its topic in turn (coding and charge posting both read
`encounters`; ledger posting, denial flagging, pattern detection and secondary billing read
`remittances`), the owner first.

Before the worker joins its group it checks that every table a stage reads or writes is
co-partitioned with the stage's stream (processors.stage.check_copartitioned) and refuses to
start otherwise, and it reads the broadcast `scrub-rules` topic to its end. Several workers
(`rcm process --workers N`, or N `rcm process` anywhere with the same RCM_APP_ID) share the
partitions; the range assignor gives one worker the same partition numbers of every topic (all
have the same partition count), so each worker holds whole accounts, claims and rules.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time

from infra import health
from infra.children import stop_children
from infra.health import PortClash
from processors.claims import agent as claims
from processors.coding import agent as coding
from processors.context import Context
from processors.denials import agent as denials
from processors.ledger import agent as ledger
from processors.matching import agent as matching
from processors.patterns import agent as patterns
from processors.stage import NotCopartitioned, Stage, check_copartitioned
from processors.visits import agent as visits
from schemas import topics as T

log = logging.getLogger("rcm.worker")

# The order stages on one topic run in (after its owner): e.g. on `remittances` the ledger posts,
# then denials are flagged, patterns detected and a secondary claim billed.
ORDER = ("code_encounters", "post_charges", "release_coding", "build_claims", "post_remittances",
         "flag_denials", "post_payments", "assemble_visits", "match_remittances", "index_claims",
         "learn_claim_accounts", "detect_denial_patterns", "count_denial_patterns",
         "apply_rule_decisions", "bill_secondary", "work_denials", "apply_appeals",
         "accept_submitted_claims")


def build_stages(ctx: Context) -> tuple[Stage, ...]:
    """Every stage of the processor, built with `ctx`, in ORDER."""
    built = {s.name: s for module in (coding, ledger, claims, denials, visits, matching, patterns)
             for s in module.stages(ctx)}
    assert set(built) == set(ORDER), sorted(set(built) ^ set(ORDER))
    return tuple(built[name] for name in ORDER)


def stages_on(stages, topic: T.Topic) -> tuple[Stage, ...]:
    return tuple(s for s in stages if s.source is topic)


async def stop_with_supervisor() -> None:
    """A worker started by `rcm process --workers N` stops when its supervisor is gone (SIGKILL
    gives the supervisor no chance to stop it)."""
    parent = os.environ.get(SUPERVISOR_ENV)
    if parent and os.getppid() != int(parent):
        log.warning("supervisor %s is gone; stopping", parent)
        os.kill(os.getpid(), signal.SIGTERM)


SUPERVISOR_ENV = "RCM_WORKER_SUPERVISOR_PID"


def add_arguments(parser, name: str) -> None:
    parser.add_argument("--loglevel", default=None, help="default: RCM_LOG_LEVEL")
    parser.add_argument("--workers", type=int, default=1,
                        help="run N workers in one consumer group (each its own process)")


def cmd_process(args) -> int:
    from infra.settings import load

    return process(args, load())


def process(args, settings) -> int:
    """Check the stages' declarations (sources, states) and the metrics ports, then run one worker
    or supervise several."""
    ctx = Context(settings)
    stages = build_stages(ctx)
    try:
        check_copartitioned(stages)
    except NotCopartitioned as exc:
        print(f"rcm process: {exc}", file=sys.stderr)
        return 2
    try:
        worker_ports(settings, args.workers)
    except PortClash as exc:
        print(f"rcm process: {exc}", file=sys.stderr)
        return 2
    loglevel = args.loglevel or settings.log_level.lower()
    if args.workers > 1:
        return supervise(settings, args.workers, loglevel)
    return run_worker(ctx, stages, loglevel)


def run_worker(ctx: Context, stages: tuple[Stage, ...], loglevel: str) -> int:
    import faust

    from infra.reconnect import Retry, transient_kafka
    from processors.app import make_app
    from processors.broadcast import TopicMirror
    from processors.runtime import Runtime, watch_health

    settings = ctx.settings
    app = make_app(settings)
    app.timer(interval=2.0)(stop_with_supervisor)
    ctx.reference()  # load before consuming so the first batch does not stall a poll interval
    runtime = Runtime(ctx, stages, settings)
    watch_health(app, runtime, settings)  # metrics, /healthz, /readyz; waits for a broker
    # a broker restarting while the worker starts (no leader yet) is waited out, not an exit
    retry = Retry("processor", settings.reconnect_initial_s, settings.reconnect_max_s)
    ctx.scrub_rules_mirror = retry.call(
        "kafka", TopicMirror(T.SCRUB_RULES, settings).start, transient_kafka)
    worker = faust.Worker(app, runtime, loglevel=loglevel, quiet=True)
    worker.spinner = None  # a terminal spinner only writes escape codes into service logs
    worker.execute_from_commandline()
    return 0


def worker_ports(settings, n: int) -> list[int]:
    """The metrics port of each of n workers: worker 0 on RCM_PROCESSOR_METRICS_PORT, worker
    i >= 1 on RCM_PROCESSOR_WORKER_METRICS_PORT + i - 1 (infra.health.worker_ports)."""
    return health.worker_ports(
        settings, n, "worker",
        ("RCM_PROCESSOR_METRICS_PORT", settings.processor_metrics_port),
        ("RCM_PROCESSOR_WORKER_METRICS_PORT", settings.processor_worker_metrics_port))


def worker_env(settings, n: int, supervisor_pid: int) -> list[dict[str, str]]:
    """What each of n workers gets besides the supervisor's environment: its metrics port and its
    index (its static group member id, processors.runtime.instance_id: the same each time that
    worker is started again)."""
    return [{SUPERVISOR_ENV: str(supervisor_pid), "RCM_PROCESSOR_METRICS_PORT": str(port),
             "RCM_PROCESSOR_INSTANCE": str(i)}
            for i, port in enumerate(worker_ports(settings, n))]


def supervise(settings, n: int, loglevel: str) -> int:
    """Run n workers as child processes in one group; restart one that exits on its own (exit 75:
    output not acknowledged, its input is redelivered; SIGKILLed: it takes its partitions back as
    the same static member); SIGTERM/SIGINT stop them all."""
    argv = [sys.executable, "-m", "infra.cli", "process", "--workers", "1", "--loglevel", loglevel]
    try:
        envs = worker_env(settings, n, os.getpid())
    except PortClash as exc:
        print(f"rcm process: {exc}", file=sys.stderr)
        return 2
    stopping = []

    def start(i: int) -> subprocess.Popen:
        return subprocess.Popen(argv, env={**os.environ, **envs[i]})

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
    stop_children(children)
    return 0
