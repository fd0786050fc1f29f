"""Run the pipeline's own processes (processor, sink) and wait for them to drain.

Used by `rcm demo`, `rcm bench` and the end-to-end tests: they all start the same commands a user
would (`rcm process`, `rcm sink`) as child processes, and judge progress from offsets alone
(Kafka end offsets against the processor group's commits, read as the ops principal, and the
sink's offsets in PostgreSQL, read as rcm_report), each through one client kept per process.
"""
from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
from kafka import KafkaAdminClient, TopicPartition
from kafka.errors import KafkaError

from infra.kafka_acls import ADMIN, OPS
from infra.kafka_auth import client_options
from infra.settings import NO_REGISTRY, Settings
from schemas import topics as T

PROCESSOR_INPUTS = (T.ENCOUNTERS, T.REMITTANCES, T.PAYMENTS, T.CODING_DECISIONS, T.ENCOUNTERS_CODED,
                    T.VISIT_EVENTS, T.REMITTANCES_UNMATCHED, T.CLAIMS, T.DENIAL_PATTERNS,
                    T.SCRUB_RULE_DECISIONS, T.DENIALS, T.APPEALS, T.CLAIMS_SUBMITTED, T.CLAIM_INDEX)
SINK_INPUTS = (T.CLAIMS, T.CODING_REVIEW, T.ENCOUNTERS_CODED, T.DENIALS, T.LEDGER_ENTRIES,
               T.DEAD_LETTERS, T.CLAIM_STATUS, T.DENIAL_PATTERNS, T.SCRUB_RULE_PROPOSALS,
               T.SCRUB_RULES, T.ENCOUNTERS, T.DENIAL_LIFECYCLE, T.DEADLINE_APPROACHING,
               T.DENIAL_EXPIRED, T.REMITTANCES)


class DrainTimeout(RuntimeError):
    pass


def child_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "RCM_HOME": str(settings.home),
        "RCM_KAFKA_SECRETS": str(settings.kafka_secrets_dir),  # each child its service's principal
        "RCM_KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap,
        "RCM_DATABASE_URL": settings.dsn,
        "RCM_APP_ID": settings.app_id,
        "RCM_SINK_GROUP": settings.sink_group,
        "RCM_PROCESSOR_METRICS_PORT": str(settings.processor_metrics_port),
        "RCM_SINK_METRICS_PORT": str(settings.sink_metrics_port),
        "RCM_CODING_THRESHOLD": str(settings.coding_threshold),
        "RCM_LOG_LEVEL": settings.log_level,
        "RCM_SCRUB_RULE_THRESHOLD": str(settings.scrub_rule_threshold),
        "RCM_KPI_INTERVAL_S": str(settings.kpi_interval_s),
        # the same registry as the parent's settings (the ids on the wire), or none: the fixed ids
        "RCM_SCHEMA_REGISTRY_URL": settings.registry_url or NO_REGISTRY,
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


@dataclass
class Service:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen | None = None

    def start(self) -> Service:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.argv, env=self.env, stdout=out,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        return self

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: the crash the exactness tests inflict."""
        if self.alive():
            self.proc.kill()
            self.proc.wait()

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM and wait; SIGKILL if it will not stop."""
        if not self.alive():
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def leave_running(self, home: Path) -> None:
        """Record the pid under `home`/run, so `rcm down` stops this service by its own pid
        (services.stop_left_running) after the command that started it has exited."""
        run = home / "run"
        run.mkdir(parents=True, exist_ok=True)
        (run / f"{self.name}.pid").write_text(f"{self.pid}\n")

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def rcm_service(name: str, settings: Settings, log_dir: Path, *args: str, **env: str) -> Service:
    argv = [sys.executable, "-m", "infra.cli", name, *args]
    return Service(name, argv, child_env(settings, **env), log_dir / f"{name}.log")


def latest_offsets(admin: KafkaAdminClient, partitions) -> dict:
    """The end offset (high watermark) of each TopicPartition, asked of the partition leaders."""
    from kafka.admin import OffsetSpec

    if not partitions:
        return {}
    found = admin.list_partition_offsets({tp: OffsetSpec.LATEST for tp in partitions})
    return {tp: found[tp].offset for tp in partitions}


class Shared:
    """One long-lived client (a Kafka admin client, a PostgreSQL connection), built on first use
    and kept across calls (a watcher polls every 0.5 s, and with SASL/SCRAM every new Kafka
    connection is a handshake: docs/security.md); closed and built afresh once when a call fails
    with one of `reconnect_on` (the server went away and came back), so a call succeeds whenever a
    new client would. Calls are serialised: neither kafka-python's clients nor a psycopg2
    connection may be used by two threads at once."""

    def __init__(self, build: Callable[[], object],
                 reconnect_on: tuple[type[BaseException], ...] = (Exception,)):
        self.build = build
        self.reconnect_on = reconnect_on
        self.client = None
        self.lock = threading.Lock()
        self.built = 0  # clients built so far (the tests count them)

    def call(self, use: Callable[[object], object]):
        with self.lock:
            for attempt in (1, 2):
                if self.client is None:
                    self.client = self.build()
                    self.built += 1
                try:
                    return use(self.client)
                except self.reconnect_on:
                    self._close()
                    if attempt == 2:
                        raise
            raise AssertionError("unreachable")

    def _close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            try:
                client.close()
            except Exception:  # noqa: BLE001, S110 - a client of a server that went away
                pass

    def close(self) -> None:
        with self.lock:
            self._close()


SharedAdmin = Shared  # a Kafka admin client: any failure rebuilds it (its name in the console and tests)

_shared: dict[str, Shared] = {}
_shared_lock = threading.Lock()


def shared(key: str, build: Callable[[], object],
           reconnect_on: tuple[type[BaseException], ...] = (Exception,)) -> Shared:
    """The process's one Shared client under `key` (who and where), closed at exit."""
    with _shared_lock:
        found = _shared.get(key)
        if found is None:
            found = _shared[key] = Shared(build, reconnect_on)
        return found


def shared_admin(key: str, build: Callable[[], KafkaAdminClient]) -> Shared:
    """The process's one Kafka admin client under `key` (principal and bootstrap)."""
    return shared(f"kafka:{key}", build)


def admin(settings: Settings) -> Shared:
    """The admin principal's client (a super user): only for what changes the cluster (deleting
    consumer groups before a run); reading offsets is the ops principal's (`watcher`)."""
    return shared_admin(f"{ADMIN}@{settings.bootstrap}", lambda: KafkaAdminClient(
        **client_options(ADMIN, settings=settings), client_id="rcm-infra"))


def watcher(settings: Settings) -> Shared:
    """The ops principal's client for the settings' brokers, shared by every watcher of the
    process: end offsets, committed offsets and group state (DESCRIBE only: infra/kafka_acls.py)."""
    return shared_admin(f"{OPS}@{settings.bootstrap}", lambda: KafkaAdminClient(
        **client_options(OPS, settings=settings), client_id="rcm-watch"))


def _read_only(dsn: str):
    conn = psycopg2.connect(dsn)
    # autocommit: a poll never holds a snapshot or a transaction open between polls
    conn.set_session(readonly=True, autocommit=True)
    return conn


def database(dsn: str) -> Shared:
    """The process's one read-only PostgreSQL connection to `dsn`, shared by every watcher; a
    connection that broke (the server restarted, the backend was terminated) is replaced once."""
    return shared(f"postgres:{dsn}", lambda: _read_only(dsn),
                  (psycopg2.OperationalError, psycopg2.InterfaceError))


@atexit.register
def close_shared() -> None:
    with _shared_lock:
        clients = list(_shared.values())
        _shared.clear()
    for client in clients:
        client.close()


def end_offsets(settings: Settings, topics: tuple[T.Topic, ...]) -> dict[tuple[str, int], int]:
    tps = [TopicPartition(t.name, p) for t in topics for p in range(t.partitions)]
    found = watcher(settings).call(lambda a: latest_offsets(a, tps))
    return {(tp.topic, tp.partition): off for tp, off in found.items()}


def group_offsets(settings: Settings, group: str) -> dict[tuple[str, int], int]:
    """Committed offsets of a consumer group; empty before the group has committed anything."""
    def read(a: KafkaAdminClient) -> dict:
        try:
            return a.list_group_offsets({group: None}).get(group, {})
        except KafkaError:  # no coordinator yet: nothing was ever committed on this cluster
            return {}

    offsets = watcher(settings).call(read)
    return {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items() if meta.offset >= 0}


def group_state(settings: Settings, group: str) -> tuple[str, int]:
    """(state, number of members) of a consumer group, ("Unknown", 0) when the broker has none yet."""
    def read(a: KafkaAdminClient) -> dict:
        try:
            return a.describe_groups([group]).get(group) or {}
        except KafkaError:
            return {}

    desc = watcher(settings).call(read)
    return str(desc.get("group_state") or "Unknown"), len(desc.get("members") or [])


def delete_groups(settings: Settings, groups: list[str]) -> None:
    def delete(a: KafkaAdminClient) -> None:
        known = {g["group_id"] for g in a.list_groups()}
        stale = [g for g in groups if g in known]
        if stale:
            a.delete_groups(stale)

    admin(settings).call(delete)


def sink_offsets(dsn: str, group: str) -> dict[tuple[str, int], int]:
    """The offsets the sink stored with its data (read through the process's one connection)."""
    def read(conn) -> list[tuple]:
        with conn.cursor() as cur:
            cur.execute("select topic, partition, next_offset from sink_offsets "
                        "where consumer_group = %s", (group,))
            return cur.fetchall()

    return {(t, p): o for t, p, o in database(dsn).call(read)}


@dataclass
class Lag:
    processor: int
    sink: int
    ends: dict[tuple[str, int], int] = field(default_factory=dict)
    behind: dict[str, int] = field(default_factory=dict)  # "group topic/partition" -> records

    @property
    def total(self) -> int:
        return self.processor + self.sink


def lag(settings: Settings) -> Lag:
    ends = end_offsets(settings, tuple({*PROCESSOR_INPUTS, *SINK_INPUTS}))
    done_p = group_offsets(settings, settings.app_id)
    done_s = sink_offsets(settings.report_dsn, settings.sink_group)
    behind: dict[str, int] = {}
    for who, inputs, done in (("processor", PROCESSOR_INPUTS, done_p), ("sink", SINK_INPUTS, done_s)):
        for t in inputs:
            for p in range(t.partitions):
                n = ends[(t.name, p)] - done.get((t.name, p), 0)
                if n:
                    behind[f"{who} {t.name}/{p}"] = n
    lag_p = sum(n for k, n in behind.items() if k.startswith("processor "))
    lag_s = sum(n for k, n in behind.items() if k.startswith("sink "))
    return Lag(lag_p, lag_s, ends, behind)


def wait_drained(settings: Settings, services: list[Service], timeout: float = 600.0,
                 progress: Callable[[Lag], None] | None = None, poll: float = 0.5) -> Lag:
    """Return once processor and sink have consumed every record and nothing new appeared."""
    deadline = time.monotonic() + timeout
    previous: Lag | None = None
    while True:
        for s in services:
            if not s.alive():
                raise RuntimeError(f"{s.name} exited with {s.proc.returncode}:\n{s.tail()}")
        now = lag(settings)
        if progress:
            progress(now)
        if now.total == 0 and previous is not None and previous.total == 0 and previous.ends == now.ends:
            return now
        previous = now
        if time.monotonic() > deadline:
            where = ", ".join(f"{k}: {n}" for k, n in sorted(now.behind.items()))
            tails = "\n".join(f"--- {s.name} log ---\n{s.tail()}" for s in services)
            raise DrainTimeout(f"not drained after {timeout:.0f}s: processor lag {now.processor}, "
                               f"sink lag {now.sink} ({where})\n{tails}")
        time.sleep(poll)


def wait_joined(settings: Settings, processor: Service, timeout: float = 180.0,
                members: int = 1) -> None:
    """Wait until the processor (`members` workers of it) has joined its group, so start-up is
    not counted as throughput."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not processor.alive():
            raise RuntimeError(f"processor exited with {processor.proc.returncode}:\n{processor.tail()}")
        state, joined = group_state(settings, settings.app_id)
        if state == "Stable" and joined >= members:
            return
        time.sleep(0.3)
    raise RuntimeError(f"processor did not join its consumer group in {timeout:.0f}s:\n{processor.tail()}")
