"""`rcm chaos --events N --duration S`: SIGKILL random components under load; nothing may be lost.

Starts the local services (`rcm up`), empties topics and tables, starts the processor and the sink,
and feeds the seeded synthetic hospital at a steady rate. Meanwhile it SIGKILLs a random component
at random intervals (the broker, PostgreSQL, the processor, the sink) and, like a supervisor,
starts it again after a short pause; a service that exits by itself is started again too (and
counted). The loop is bounded by `--kills` and `--duration`. Then it drains and checks every
balance against the ground truth and every input event against what reached PostgreSQL.

Every run prints its seed: the same seed kills the same kinds in the same order after the same
gaps. The components are a list (`components`), so several brokers or workers are more entries.
Logs carry counts and pids only.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import random
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from infra import kafka, pipeline, postgres, report
from infra.health import probe
from infra.messages import sayer
from infra.settings import Settings, load

KINDS = ("broker", "postgres", "processor", "sink")
READY_TIMEOUT_S = 600.0  # a component not ready again after this long fails the run
# A service alive but not ready this long after its start is hung (seen: a faust worker started
# while the broker came back was assigned no partitions and never asked again): like a supervisor
# with a readiness deadline, chaos SIGKILLs it and starts it again, and reports it.
HUNG_S = 180.0


say = sayer("chaos")


@dataclass
class Component:
    """One thing chaos may kill: how to kill it, start it, and tell it is ready again."""

    name: str
    kind: str
    kill: Callable[[], int | None]  # SIGKILL; returns the pid killed (None: it was not running)
    start: Callable[[], None]
    ready: Callable[[], bool]
    exited: Callable[[], int | None] = lambda: None  # exit code if it stopped by itself


@dataclass
class Event:
    at_s: float
    component: str
    what: str  # "kill", "exit"
    kind: str = ""
    pid: int | None = None
    down_s: float = 0.0
    recovered_s: float | None = None  # from the kill to ready again
    code: int | None = None


@dataclass
class Result:
    seed: int
    events: int
    duration_s: float
    kills: list[Event] = field(default_factory=list)
    exits: list[Event] = field(default_factory=list)
    hung: list[Event] = field(default_factory=list)  # alive, never ready: killed and restarted
    # a restart that failed and was tried again 2 s later (PostgreSQL refusing connections while
    # it recovers, right after pg_ctl returned): a supervisor's retry, not a lost record
    checks_start_retries: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    checks: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _killpg(pid: int) -> None:
    try:
        os.killpg(os.getpgid(pid), signal.SIGKILL)
    except ProcessLookupError:
        pass


def _wait_gone(pid: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)  # reap it if it is our child
        except ChildProcessError:
            pass
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return
        if "State:\tZ" in status:
            return
        time.sleep(0.05)


def broker(settings: Settings, node: int = 1) -> Component:
    name = "broker" if settings.brokers == 1 else f"broker-{node}"

    def kill() -> int | None:
        pid = kafka.running_pid(settings, node)
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            _wait_gone(pid)
        return pid

    def start() -> None:
        kafka.start_node(settings, node)

    return Component(name, "broker", kill, start,
                     lambda: kafka.running_pid(settings, node) is not None)


def database(settings: Settings) -> Component:
    def kill() -> int | None:
        pid = postgres.running_pid(settings)
        if pid is not None:  # the postmaster and every backend, as an OOM kill or a crash
            _killpg(pid)
            _wait_gone(pid)
        return pid

    return Component("postgres", "postgres", kill, lambda: postgres.start(settings) and None,
                     lambda: postgres.running_pid(settings) is not None)


def service(kind: str, svc: pipeline.Service, health_port: int) -> Component:
    killed = {"pid": None}

    def kill() -> int | None:
        pid = svc.pid if svc.alive() else None
        killed["pid"] = pid
        svc.kill()
        return pid

    def exited() -> int | None:
        if svc.proc is None or svc.alive() or svc.pid == killed["pid"]:
            return None
        return svc.proc.returncode

    return Component(svc.name, kind, kill, svc.start,
                     lambda: svc.alive() and probe(health_port, "/readyz")[0] == 200, exited)


def components(settings: Settings, local: Settings, log_dir: Path,
               env: dict[str, str], workers: int = 1) -> tuple[list[Component], list]:
    """Each broker, PostgreSQL, each processor worker and the sink, and the service processes (to
    stop). With several brokers (`rcm up --brokers 3`, issue 10) or workers, each is one entry of
    its kind; the workers are separate `rcm process` in one group, as on separate machines."""
    procs = []
    comps = [broker(local, node) for node in kafka.nodes(local)] + [database(local)]
    names = [("processor", "process", f"processor-{i}" if workers > 1 else "processor")
             for i in range(1, workers + 1)] + [("sink", "sink", "sink")]
    for kind, command, name in names:
        port = free_port()
        variable = "RCM_PROCESSOR_METRICS_PORT" if kind == "processor" else "RCM_SINK_METRICS_PORT"
        static = {"RCM_PROCESSOR_INSTANCE": name} if kind == "processor" else {}  # issue 10
        svc = pipeline.rcm_service(command, settings, log_dir, **env, **{variable: str(port)},
                                   **static)
        svc.name, svc.log = name, log_dir / f"{name}.log"
        procs.append(svc)
        comps.append(service(kind, svc, port))
    return comps, procs


class Feeder(threading.Thread):
    """Publishes the records at a steady rate, in chunks; what the broker did not acknowledge is
    sent again (only that: a record the broker has is not re-sent)."""

    def __init__(self, records: list, settings: Settings, rate: float) -> None:
        super().__init__(name="chaos-feeder", daemon=True)
        self.records, self.settings, self.rate = records, settings, rate
        self.sent = 0
        self.resent = 0
        self.error: BaseException | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        from producers.publish import Undelivered, publish

        chunk = max(50, int(self.rate * 5))
        try:
            for start in range(0, len(self.records), chunk):
                todo = self.records[start:start + chunk]
                while todo and not self.stop.is_set():
                    try:
                        publish(todo, self.settings, rate=self.rate, timeout_s=10, attempts=3)
                        todo = []
                    except Undelivered as missing:
                        todo = [todo[i] for i in missing.report.missing]
                        self.resent += len(todo)
                        self.stop.wait(1.0)
                self.sent = min(len(self.records), start + chunk)
        except BaseException as exc:  # noqa: BLE001 - reported by the run, never silently lost
            self.error = exc


class Supervisor:
    """Keeps every component running as a supervisor would: starts again what was killed (after
    its downtime) or exited by itself, and notes when each is ready again. Starting the broker or
    PostgreSQL blocks until it serves, so that runs in a thread; the loop never waits on one
    component while another needs it."""

    def __init__(self, comps: list[Component], started: float, result: Result, log) -> None:
        self.comps, self.started, self.result, self.log = comps, started, result, log
        self.state = {c.name: "up" for c in comps}
        self.restart_at: dict[str, float] = {}
        self.killed: dict[str, tuple[float, Event]] = {}
        self.starting: dict[str, threading.Thread] = {}
        self.since: dict[str, float] = {}  # when each component began starting
        self.failed: list[str] = []

    def up(self, kinds) -> list[Component]:
        return [c for c in self.comps if c.kind in kinds and self.state[c.name] == "up"]

    def all_up(self) -> bool:
        return all(v == "up" for v in self.state.values())

    def kill(self, c: Component, down: float) -> None:
        at = time.monotonic()
        pid = c.kill()
        event = Event(round(at - self.started, 1), c.name, "kill", c.kind, pid, round(down, 1))
        self.result.kills.append(event)
        self.state[c.name] = "down"
        self.restart_at[c.name] = at + down
        self.killed[c.name] = (at, event)
        self.log(f"kill {len(self.result.kills)} at {event.at_s:.1f}s: {c.name} (pid {pid}); "
                 f"restarting in {down:.1f}s")

    def tick(self) -> None:
        now = time.monotonic()
        for c in self.comps:
            state = self.state[c.name]
            if state == "down" and now >= self.restart_at[c.name]:
                self._start(c)
            elif (state == "starting" and c.kind not in ("broker", "postgres")
                  and now - self.since.get(c.name, now) > HUNG_S):
                self._hung(c)
            elif state == "starting":
                thread = self.starting.get(c.name)
                if (thread is None or not thread.is_alive()) and c.ready():
                    self.state[c.name] = "up"
                    self.starting.pop(c.name, None)
                    if c.name in self.killed:
                        at, event = self.killed.pop(c.name)
                        event.recovered_s = round(now - at, 1)
                        self.log(f"  {c.name} ready again {event.recovered_s:.1f}s after the kill")
                elif c.exited() is not None:
                    self._exited(c)
            elif state == "up" and c.exited() is not None:
                self._exited(c)

    def _hung(self, c: Component) -> None:
        event = Event(round(time.monotonic() - self.started, 1), c.name, "hung", c.kind,
                      pid=c.kill())
        self.result.hung.append(event)
        self.log(f"{c.name} (pid {event.pid}) alive but not ready {HUNG_S:.0f}s after its "
                 f"start at {event.at_s:.1f}s: killed and started again")
        self._start(c)

    def _start(self, c: Component) -> None:
        self.state[c.name] = "starting"
        self.since[c.name] = time.monotonic()
        if c.kind in ("broker", "postgres"):
            def start() -> None:
                try:
                    c.start()
                except Exception as exc:  # noqa: BLE001 - reported, and tried again
                    self.failed.append(f"{c.name} did not start: {type(exc).__name__}")
                    self.state[c.name] = "down"
                    self.restart_at[c.name] = time.monotonic() + 2.0
            thread = threading.Thread(target=start, name=f"start-{c.name}", daemon=True)
            self.starting[c.name] = thread
            thread.start()
        else:
            c.start()

    def _exited(self, c: Component) -> None:
        event = Event(round(time.monotonic() - self.started, 1), c.name, "exit", c.kind,
                      code=c.exited())
        self.result.exits.append(event)
        self.log(f"{c.name} exited by itself with code {event.code} at {event.at_s:.1f}s; "
                 "starting it again")
        self._start(c)

    def wait_all_up(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        while not self.all_up():
            if time.monotonic() > deadline:
                late = [n for n, v in self.state.items() if v != "up"]
                raise RuntimeError(f"not ready {timeout_s:.0f}s after their start: {late}")
            self.tick()
            time.sleep(0.2)


def run(settings: Settings, events: int, duration_s: float, seed: int | None = None,
        max_kills: int = 1000, gap_s: tuple[float, float] = (8.0, 20.0),
        down_s: tuple[float, float] = (0.5, 4.0), kinds: tuple[str, ...] = KINDS,
        drain_timeout_s: float = 900.0, local: Settings | None = None, prepare: bool = True,
        workers: int = 1, log=say) -> Result:
    """One chaos run on `settings` (topics, database, groups). `local` names the broker and
    PostgreSQL to kill and start (their RCM_HOME and ports; default `settings`). `prepare`: start
    them and empty topics, groups and tables first, as `rcm demo` does. `duration_s` counts from
    the moment every service is first ready."""
    from producers.synthetic import generate

    seed = random.SystemRandom().randrange(1 << 31) if seed is None else seed
    rng = random.Random(seed)
    log(f"seed {seed}: {events:,} events over about {duration_s:.0f}s, at most {max_kills} kills")
    local = local or settings
    if prepare:
        from infra import services
        from infra.demo import reset

        services.up(local)
        reset(settings)
    scenario = generate(events, seed=seed)
    records = list(scenario.records)
    log_dir = settings.home / "logs" / "chaos"
    env = {"RCM_RECONNECT_INITIAL_S": "0.2", "RCM_RECONNECT_MAX_S": "3",
           "RCM_STALL_AFTER_S": "20", "RCM_DELIVERY_TIMEOUT_S": "15"}
    comps, procs = components(settings, local, log_dir, env, workers)
    result = Result(seed, events, duration_s)
    rate = max(1.0, len(records) / max(1.0, duration_s * 0.8))
    feeder = Feeder(records, settings, rate)
    try:
        boot = time.monotonic()
        for c in comps:
            if c.kind in ("processor", "sink"):
                c.start()
        sup = Supervisor(comps, boot, result, log)
        sup.state.update({c.name: "starting" for c in comps if c.kind in ("processor", "sink")})
        sup.since.update({c.name: boot for c in comps if c.kind in ("processor", "sink")})
        sup.wait_all_up()
        started = sup.started = time.monotonic()
        log(f"services ready after {started - boot:.0f}s; feeding {len(records):,} records at "
            f"{rate:.0f}/s")
        feeder.start()
        order = _first_round(comps, kinds, rng)
        next_kill = started + rng.uniform(*gap_s)
        while len(result.kills) < max_kills and time.monotonic() - started < duration_s:
            sup.tick()
            if time.monotonic() >= next_kill:
                victim = _victim(sup, order, kinds, rng)
                if victim is not None:
                    sup.kill(victim, rng.uniform(*down_s))
                    next_kill = time.monotonic() + rng.uniform(*gap_s)
            time.sleep(0.2)
        log(f"kill loop over after {time.monotonic() - started:.0f}s, {len(result.kills)} kills; "
            "waiting for every component and the feeder")
        sup.wait_all_up()
        while feeder.is_alive():
            sup.tick()
            feeder.join(timeout=0.5)
        if feeder.error is not None:
            result.problems.append(f"feeder failed: {type(feeder.error).__name__}: {feeder.error}")
        log("draining")
        drained_at = time.monotonic()
        _drain(settings, sup, procs, drain_timeout_s)
        log(f"drained in {time.monotonic() - drained_at:.0f}s")
        result.checks_start_retries = list(sup.failed)
    finally:
        feeder.stop.set()
        for svc in procs:
            svc.stop()
    result.checks = check(settings.report_dsn, scenario.truth, result)
    result.checks["resent_by_producer"] = feeder.resent
    return result


def _first_round(comps: list[Component], kinds, rng: random.Random) -> list[str]:
    """Every component of the chosen kinds once first (each broker, each worker), in a seeded
    order, so even a short run covers them all."""
    first = [c.name for c in comps if c.kind in kinds]
    rng.shuffle(first)
    return first


def _victim(sup: Supervisor, order: list[str], kinds, rng: random.Random) -> Component | None:
    """The next component to kill among those running: the first round's next, else any."""
    up = sup.up(kinds)
    if any(sup.state[c.name] != "up" for c in sup.comps if c.kind == "broker"):
        up = [c for c in up if c.kind != "broker"]  # one broker away at a time: quorum kept
    if order:
        ready = [c for c in up if c.name == order[0]]
        if ready:
            order.pop(0)
            return ready[0]
        return None  # wait until the next of the first round is back
    return rng.choice(up) if up else None


def _drain(settings: Settings, sup: Supervisor, procs, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            pipeline.wait_drained(settings, procs, timeout=max(1.0, deadline - time.monotonic()))
            return
        except RuntimeError as exc:  # a service exited while draining: restart it and go on
            if isinstance(exc, pipeline.DrainTimeout) or time.monotonic() > deadline:
                raise
            sup.tick()
            time.sleep(0.5)


def distinct_dead_letters(dsn: str) -> int:
    """Bad input events that reached `dead_letters`: one per event id when the payload decodes
    (a producer retry re-sends an event with a new send time: the same event, other bytes), else
    one per payload. Each input record is dead-lettered once (its id is topic:partition:offset)."""
    import hashlib

    from schemas.codec import DecodeError, decode

    seen = set()
    for (payload,) in report.query(dsn, "select payload from dead_letters"):
        data = bytes(payload) if payload is not None else None
        try:
            _, record = decode(data)
            seen.add(("event", str(record.get("event_id"))) if record.get("event_id")
                     else ("bytes", hashlib.md5(data).hexdigest()))
        except DecodeError:
            seen.add(("bytes", hashlib.md5(data or b"").hexdigest()))
    return len(seen)


def check(dsn: str, truth: dict, result: Result) -> dict:
    """Balances against the ground truth; input events against PostgreSQL rows."""
    def one(sql: str) -> int:
        return report.query(dsn, sql)[0][0]

    counts = truth["counts"]
    problems = report.reconcile(dsn, truth)
    if problems:
        result.problems.append(f"{len(problems)} balances differ from the ground truth, e.g. "
                               f"{problems[0].split(':', 1)[1].strip()}")
    found = {
        "accounts": one("select count(*) from account_balances"),
        "encounters": one("select count(*) from encounters_coded")
        + one("select count(*) from coding_review"),
        "dead_letters": distinct_dead_letters(dsn),
        "denials": one("select count(*) from denials"),
        "denied_cents": one("select coalesce(sum(amount_cents), 0) from denials"),
    }
    wanted = {"accounts": len(truth["accounts"]), "encounters": counts["encounters"],
              "dead_letters": counts["dead_letters"], "denials": counts["denial_adjustments"],
              "denied_cents": counts["denial_cents"]}
    for name, want in wanted.items():
        if found[name] != want:
            result.problems.append(f"{name}: {found[name]:,} in PostgreSQL, {want:,} sent")
    dead_rows = one("select count(*) from dead_letters")
    return {"balances_exact": not problems, "found": found, "expected": wanted,
            "dead_letter_rows": dead_rows}


def render(result: Result) -> str:
    lines = [(f"chaos run: seed {result.seed}, {result.events:,} events, "
             f"{len(result.kills)} kills, {len(result.exits)} exits by themselves")]
    for n, k in enumerate(result.kills, 1):
        rec = "not recovered" if k.recovered_s is None else f"ready after {k.recovered_s:.1f}s"
        lines.append(f"  kill {n:>3} at {k.at_s:>7.1f}s  {k.component:<10} pid {k.pid}  "
                     f"down {k.down_s:.1f}s, {rec}")
    for e in result.exits:
        lines.append(f"  exit     at {e.at_s:>7.1f}s  {e.component:<10} code {e.code}")
    for e in result.hung:
        lines.append(f"  hung     at {e.at_s:>7.1f}s  {e.component:<10} pid {e.pid} (never ready)")
    by_kind: dict[str, list[float]] = {}
    for k in result.kills:
        if k.recovered_s is not None:
            by_kind.setdefault(k.component, []).append(k.recovered_s)
    for name, times in sorted(by_kind.items()):
        lines.append(f"  {name:<10} killed {len(times):>3}x, recovery mean {sum(times) / len(times):.1f}s"
                     f", max {max(times):.1f}s")
    kinds: dict[str, int] = {}
    for k in result.kills:
        kinds[k.kind] = kinds.get(k.kind, 0) + 1
    lines.append("  kills by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
                 + f"; exits by themselves {len(result.exits)}, hung {len(result.hung)}")
    c = result.checks
    if c:
        lines.append("  " + ", ".join(f"{k} {c['found'][k]:,}/{c['expected'][k]:,}"
                                      for k in c["expected"]))
        lines.append(f"  balances exact: {c['balances_exact']}; records re-sent by the producer: "
                     f"{c.get('resent_by_producer', 0)}")
    if result.checks_start_retries:
        lines.append(f"  restarts tried again: {len(result.checks_start_retries)} "
                     f"({'; '.join(sorted(set(result.checks_start_retries)))})")
    lines.append("RESULT: " + ("PASS" if result.ok else "FAIL: " + "; ".join(result.problems)))
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("--events", type=int, default=5000, help="synthetic events to feed")
    parser.add_argument("--duration", type=float, default=180.0, metavar="S",
                        help="seconds of killing (the feed is spread over most of it)")
    parser.add_argument("--kills", type=int, default=1000, help="at most this many kills")
    parser.add_argument("--seed", type=int, default=None, help="default: a random seed (printed)")
    parser.add_argument("--min-gap", type=float, default=8.0, help="seconds between kills, at least")
    parser.add_argument("--max-gap", type=float, default=20.0, help="seconds between kills, at most")
    parser.add_argument("--brokers", type=int, default=0,
                        help="run (and kill) a local cluster of N brokers (default: as `rcm up`)")
    parser.add_argument("--workers", type=int, default=1,
                        help="processor workers, each its own `rcm process` in one group")
    parser.add_argument("--only", default=",".join(KINDS),
                        help=f"kinds of component to kill (default {','.join(KINDS)})")


def cmd_chaos(args: argparse.Namespace) -> int:
    import logging

    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("kafka").setLevel(logging.CRITICAL)  # the feed's clients see every kill
    settings = dataclasses.replace(load(), log_level="INFO")
    if args.brokers:
        settings = dataclasses.replace(settings, kafka_brokers=args.brokers)
    if not (settings.manages_kafka and settings.manages_postgres):
        say("rcm chaos kills the broker and PostgreSQL: it runs only on the local ones "
            "(unset RCM_KAFKA_BOOTSTRAP_SERVERS and RCM_DATABASE_URL)")
        return 78
    kinds = tuple(k.strip() for k in args.only.split(",") if k.strip())
    if unknown := set(kinds) - set(KINDS):
        say(f"unknown kinds {sorted(unknown)}; choose from {', '.join(KINDS)}")
        return 2
    try:
        result = run(settings, args.events, args.duration, args.seed, args.kills,
                     (args.min_gap, args.max_gap), kinds=kinds, workers=args.workers)
    except RuntimeError as failure:
        say(f"error: {failure}")
        return 1
    print(render(result))
    return 0 if result.ok else 1
