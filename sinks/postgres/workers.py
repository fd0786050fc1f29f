"""`rcm sink --workers N`: N sink processes in one consumer group, kept running.

Each child is a plain `rcm sink` (its own Kafka consumer and PostgreSQL connections; metrics of
worker 0 on RCM_SINK_METRICS_PORT, of worker i >= 1 on RCM_SINK_WORKER_METRICS_PORT + i - 1, where
`rcm status` finds them). Kafka spreads the partitions over them; each seeks to the offsets
PostgreSQL stored at every assignment, and the writer skips what another child already applied,
so a child killed mid-batch loses and doubles nothing. A child that dies is started again; one
that exits 0 (its --idle-exit) is done; one that exits for a fault it cannot fix (bad settings,
access refused) stops them all with its code. N `rcm sink` started anywhere with the same
RCM_SINK_GROUP do the same without a supervisor.
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
from infra.reconnect import EXIT_CONFIG, EXIT_PERMISSION

log = logging.getLogger("rcm.sink")

RESTART_DELAY_S = 1.0
FATAL_CODES = frozenset({2, EXIT_CONFIG, EXIT_PERMISSION})  # usage, bad settings, access refused


def worker_ports(settings, n: int, metrics_port: int) -> list[int]:
    """The metrics port of each of n sink workers: worker 0 on `metrics_port`
    (RCM_SINK_METRICS_PORT or --metrics-port), worker i >= 1 on RCM_SINK_WORKER_METRICS_PORT + i - 1
    (infra.health.worker_ports)."""
    return health.worker_ports(
        settings, n, "sink worker", ("RCM_SINK_METRICS_PORT", metrics_port),
        ("RCM_SINK_WORKER_METRICS_PORT", settings.sink_worker_metrics_port))


def supervise(n: int, args: list[str], metrics_port: int, supervisor_env: str, settings) -> int:
    argv = [sys.executable, "-m", "infra.cli", "sink", "--workers", "1", *args]
    env = {**os.environ, supervisor_env: str(os.getpid())}
    try:
        ports = [str(p) for p in worker_ports(settings, n, metrics_port)]
    except PortClash as exc:
        print(f"rcm sink: {exc}", file=sys.stderr)
        return 2

    def start(i: int) -> subprocess.Popen:
        return subprocess.Popen(argv, env={**env, "RCM_SINK_METRICS_PORT": ports[i]})

    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, _frame: stopping.append(signum))
    signal.signal(signal.SIGINT, lambda signum, _frame: stopping.append(signum))
    children: list[subprocess.Popen | None] = [start(i) for i in range(n)]
    code = 0
    while not stopping and any(c is not None for c in children):
        for i, child in enumerate(children):
            if child is None or child.poll() is None:
                continue
            if child.returncode == 0:
                children[i] = None
            elif child.returncode in FATAL_CODES:
                log.error("sink worker %d exited %d; stopping every worker", i, child.returncode)
                code = child.returncode
                stopping.append(0)
            else:
                log.warning("sink worker %d exited %s; starting it again", i, child.returncode)
                time.sleep(RESTART_DELAY_S)
                children[i] = start(i)
        time.sleep(0.5)
    stop_children([c for c in children if c is not None])
    return code

