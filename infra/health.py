"""Liveness and readiness of a long-running service, served on its metrics port (127.0.0.1).

    GET /healthz   200 while the service's main loop keeps turning, 503 once it has not turned
                   for STALL_S seconds (a stuck loop: restart it)
    GET /readyz    200 when every dependency it needs is connected and, for a consumer, it holds
                   partitions; 503 otherwise (it is alive, waiting for a dependency)
    GET /metrics   Prometheus text (also `/`), with the gauges below

Both health answers carry a small JSON body (service, live, ready, connected per dependency,
partitions, seconds since the last commit, and why it is not ready): counts and states only.

Gauges: `rcm_dependency_connected{dependency}` (kafka, postgres: 1 or 0),
`rcm_partitions_assigned`, `rcm_seconds_since_commit` (since start when nothing was committed yet).
The sinks and the MLLP listener report through a `Health`; the processor through
`processors.runtime.watch_health`, which also starts the orphan watchdog (`watch_orphans`).
"""
from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Gauge, generate_latest

log = logging.getLogger("rcm.health")
STALL_S = 120.0  # a loop that has not turned for this long is not alive

CONNECTED = Gauge("rcm_dependency_connected", "1 while the service is connected to the dependency",
                  ["dependency"])
PARTITIONS = Gauge("rcm_partitions_assigned", "Partitions assigned to the service's consumer")
SINCE_COMMIT = Gauge("rcm_seconds_since_commit", "Seconds since the service last committed "
                     "(its offsets, or a message on the broker); since start before the first")


class Health:
    """What one service knows about itself; thread-safe enough for gauges and an HTTP reader."""

    def __init__(self, service: str, needs: tuple[str, ...] = ("kafka", "postgres"),
                 consumer: bool = True, stall_s: float = STALL_S) -> None:
        self.service, self.needs, self.consumer, self.stall_s = service, needs, consumer, stall_s
        self.started = self.beat_at = self.committed_at = time.monotonic()
        self.committed = False
        self.connected: dict[str, bool] = {d: False for d in needs}
        self.partitions = 0
        for d in needs:
            CONNECTED.labels(d).set(0)
        SINCE_COMMIT.set_function(self.seconds_since_commit)

    def beat(self) -> None:
        self.beat_at = time.monotonic()

    def set_connected(self, dependency: str, up: bool) -> None:
        self.connected[dependency] = up
        CONNECTED.labels(dependency).set(1 if up else 0)

    def set_partitions(self, n: int) -> None:
        self.partitions = n
        PARTITIONS.set(n)

    def commit(self) -> None:
        self.committed, self.committed_at = True, time.monotonic()

    def seconds_since_commit(self) -> float:
        return time.monotonic() - self.committed_at

    def report(self) -> dict:
        now = time.monotonic()
        live = now - self.beat_at < self.stall_s
        waiting = [d for d in self.needs if not self.connected.get(d)]
        reasons = [f"not connected to {d}" for d in waiting]
        if self.consumer and not self.partitions:
            reasons.append("no partitions assigned")
        if not live:
            reasons.insert(0, f"main loop has not turned for {now - self.beat_at:.0f}s")
        return {"service": self.service, "live": live, "ready": live and not reasons,
                "connected": dict(self.connected),
                "partitions": self.partitions if self.consumer else None,
                "seconds_since_commit": round(self.seconds_since_commit(), 1),
                "committed": self.committed, "reasons": reasons}


def _handler(health: Health):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path in ("/healthz", "/readyz"):
                report = health.report()
                good = report["live"] if path == "/healthz" else report["ready"]
                self._send(200 if good else 503, "application/json",
                           json.dumps(report).encode())
            elif path in ("/", "/metrics"):
                self._send(200, CONTENT_TYPE_LATEST, generate_latest(REGISTRY))
            else:
                self._send(404, "text/plain", b"not found\n")

        def _send(self, code: int, kind: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args) -> None:  # probes every few seconds: not worth a log line
            pass

    return Handler


def serve(health: Health, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer | None:
    """Serve /healthz, /readyz and /metrics on host:port in a daemon thread (port 0: not at all)."""
    if not port:
        return None
    try:
        server = ThreadingHTTPServer((host, port), _handler(health))
    except OSError as exc:  # the port is taken: the service still runs, unobserved, and says so
        log.error("%s: cannot serve health and metrics on %s:%d (%s)", health.service, host, port,
                  exc.strerror or type(exc).__name__)
        return None
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name=f"{health.service}-health",
                     daemon=True).start()
    return server


def probe(port: int, path: str = "/readyz", host: str = "127.0.0.1",
          timeout_s: float = 2.0) -> tuple[int | None, dict]:
    """(HTTP status, JSON body) of a service's health endpoint; (None, {}) when nothing answers."""
    import urllib.error
    import urllib.request

    url = f"http://{host}:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as err:
        try:
            return err.code, json.loads(err.read() or b"{}")
        except ValueError:
            return err.code, {}
    except (OSError, ValueError):
        return None, {}


def kafka_consumer_connected(consumer) -> bool:
    """A kafka-python consumer in a group knows its group coordinator (read without side
    effects: `coordinator_unknown()` would mark a coordinator still connecting as dead)."""
    try:
        return consumer._coordinator.coordinator_id is not None
    except Exception:  # noqa: BLE001 - a probe must never fail the service
        return False


def watch_orphans(settings, topics: set[str], held, rejoin):
    """Start the orphan watchdog (processors.watchdog.OrphanWatch) for the processor's group:
    partitions with records waiting that no member holds make the worker rejoin, then exit 75.
    `held()`: partitions this worker holds; `rejoin()`: ask its consumer to rejoin."""
    from processors.watchdog import OrphanWatch

    return OrphanWatch(settings, settings.app_id, topics, held, rejoin,
                       after_s=settings.stall_after_s).start()


class PortClash(ValueError):
    """A worker's metrics port is another service's port (or another worker's)."""


def _named_ports(settings) -> dict[str, int]:
    """Every port the settings give a service, by the setting that names it."""
    return {
        "RCM_PROCESSOR_METRICS_PORT": settings.processor_metrics_port,
        "RCM_PROCESSOR_WORKER_METRICS_PORT": settings.processor_worker_metrics_port,
        "RCM_SINK_METRICS_PORT": settings.sink_metrics_port,
        "RCM_SINK_WORKER_METRICS_PORT": settings.sink_worker_metrics_port,
        "RCM_SINK_X12_METRICS_PORT": settings.sink_x12_metrics_port,
        "RCM_MLLP_METRICS_PORT": settings.mllp_metrics_port,
        "RCM_POSTGRES_PORT": settings.postgres_port,
        "RCM_SCHEMA_REGISTRY_PORT": settings.registry_port,
        **{f"RCM_KAFKA_PORT + {k}": settings.kafka_port + k for k in range(6)},
    }


def worker_ports(settings, n: int, who: str, first: tuple[str, int], rest: tuple[str, int]) -> list[int]:
    """The metrics port of each of n workers (`rcm process --workers N`, `rcm sink --workers N`):
    worker 0 on `first` (where `rcm status` looks first), worker i >= 1 on `rest` + i - 1; all 0
    when metrics are off. Each is (the setting's name, its port). Raises PortClash naming the
    setting when a port is another service's or two workers' ports meet."""
    (first_name, first_port), (rest_name, rest_port) = first, rest
    if not first_port:
        return [0] * n
    ports = [first_port, *(rest_port + i - 1 for i in range(1, n))]
    others = {name: port for name, port in _named_ports(settings).items()
              if port and name not in (first_name, rest_name)}
    for i, port in enumerate(ports):
        for name, other in others.items():
            if port == other:
                setting = first_name if i == 0 else f"{rest_name} + {i - 1}"
                raise PortClash(f"{who} {i}'s metrics port {port} ({setting}) is {name}; "
                                f"set {rest_name} to a free range")
    if len(set(ports)) < n:
        raise PortClash(f"the {who}s' metrics ports {ports} overlap; set {rest_name} outside "
                        f"{first_name}")
    return ports
