"""Wait out a dependency fault with bounded exponential backoff; stop only for one no wait can fix.

A long-running service (`rcm sink`, `rcm sink-x12`, `rcm listen mllp`) calls `Retry.call` to
connect, and `Retry.failed` when a connection it had breaks. PostgreSQL or Kafka restarting, not
started yet, or unreachable for a while are waited out: each retry is logged (the dependency, the
error's class and the delay; never a DSN, a record or an account) and counted in
`rcm_dependency_retries_total{dependency}`. Bad configuration and refused authentication or
permission cannot heal by waiting: they raise `Fatal`, which the command turns into a clear message
and a non-zero exit code (sysexits: 78 configuration, 77 permission).
"""
from __future__ import annotations

import logging
import random
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import psycopg2
from kafka import errors as kafka_errors
from prometheus_client import Counter

log = logging.getLogger("rcm.reconnect")

EXIT_PERMISSION = 77  # EX_NOPERM: authentication or authorisation refused
EXIT_CONFIG = 78  # EX_CONFIG: a setting is wrong

RETRIES = Counter("rcm_dependency_retries_total",
                  "Reconnection attempts after a dependency fault", ["dependency"])
T = TypeVar("T")

# Words PostgreSQL (libpq) uses when it refuses who we are or what we asked for: no retry heals it.
_PG_PERMISSION = ("password authentication failed", "no pg_hba.conf entry", "authentication failed",
                  "permission denied", "no password supplied")
_PG_CONFIG = ("does not exist", "invalid dsn", "invalid connection option", "invalid port",
              "invalid sslmode", "invalid integer value")
_KAFKA_PERMISSION = (kafka_errors.AuthorizationError, kafka_errors.SaslAuthenticationFailedError)


class Fatal(RuntimeError):
    """A fault the service cannot fix by waiting; `code` is the process exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class Stopped(RuntimeError):
    """The service was asked to stop while it waited for a dependency."""


def classify(dependency: str, exc: BaseException) -> Fatal | None:
    """The Fatal this fault amounts to, or None when waiting may heal it."""
    name = type(exc).__name__
    if isinstance(exc, psycopg2.Error):
        text = str(exc).lower()
        if isinstance(exc, psycopg2.errors.InsufficientPrivilege) or any(
                w in text for w in _PG_PERMISSION):
            return Fatal(f"{dependency}: access refused ({name}); check the role, its password "
                         "and its grants in RCM_DATABASE_URL", EXIT_PERMISSION)
        if (isinstance(exc, psycopg2.ProgrammingError) and "invalid dsn" in text) or (
                isinstance(exc, psycopg2.OperationalError) and any(w in text for w in _PG_CONFIG)):
            return Fatal(f"{dependency}: the connection settings are wrong ({name}: "
                         f"{_first_line(exc)}); check RCM_DATABASE_URL", EXIT_CONFIG)
        return None
    if isinstance(exc, _KAFKA_PERMISSION):
        return Fatal(f"{dependency}: access refused ({name}); check the service's Kafka "
                     "principal and its ACLs", EXIT_PERMISSION)
    if isinstance(exc, kafka_errors.KafkaConfigurationError | ValueError | TypeError):
        return Fatal(f"{dependency}: the client settings are wrong ({name}: "
                     f"{_first_line(exc)}); check RCM_KAFKA_BOOTSTRAP_SERVERS", EXIT_CONFIG)
    return None


def _first_line(exc: BaseException) -> str:
    # libpq's messages name host, port, user and database, never a password; keep the first line.
    return (str(exc).strip().splitlines() or [""])[0][:200]


def transient_postgres(exc: BaseException) -> bool:
    """A PostgreSQL fault that reconnecting may heal: the connection or the server went away."""
    return isinstance(exc, psycopg2.OperationalError | psycopg2.InterfaceError) or (
        isinstance(exc, psycopg2.DatabaseError) and getattr(exc, "pgcode", None) is not None
        and exc.pgcode.startswith(("08", "57P")))  # connection exception, operator intervention


@dataclass
class Backoff:
    """Exponential delays from `initial_s`, doubled per failure, capped at `max_s`, with jitter
    (so several services restarting together do not knock in step)."""

    initial_s: float
    max_s: float
    failures: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def next(self) -> float:
        delay = min(self.max_s, self.initial_s * (2 ** min(self.failures, 30)))
        self.failures += 1
        return delay * (0.5 + 0.5 * self.rng.random())

    def reset(self) -> None:
        self.failures = 0


class Retry:
    """Connect and reconnect to one service's dependencies, until stopped."""

    def __init__(self, service: str, initial_s: float, max_s: float,
                 stop: threading.Event | None = None,
                 on_state: Callable[[str, bool], None] | None = None) -> None:
        self.service = service
        self.initial_s, self.max_s = initial_s, max_s
        self.stop = stop or threading.Event()
        self.on_state = on_state or (lambda _dependency, _up: None)
        self.backoffs: dict[str, Backoff] = {}

    def backoff(self, dependency: str) -> Backoff:
        return self.backoffs.setdefault(dependency, Backoff(self.initial_s, self.max_s))

    def ok(self, dependency: str) -> None:
        self.backoff(dependency).reset()
        self.on_state(dependency, True)

    def failed(self, dependency: str, exc: BaseException) -> None:
        """Record a fault and wait before the next attempt; raise Fatal or Stopped instead."""
        fatal = classify(dependency, exc)
        self.on_state(dependency, False)
        if fatal is not None:
            raise fatal from exc
        delay = self.backoff(dependency).next()
        RETRIES.labels(dependency).inc()
        log.warning("%s: %s unavailable (%s); retry %d in %.1fs", self.service, dependency,
                    type(exc).__name__, self.backoff(dependency).failures, delay)
        if self.stop.wait(delay):
            raise Stopped(f"{self.service} stopped while waiting for {dependency}")

    def call(self, dependency: str, attempt: Callable[[], T],
             transient: Callable[[BaseException], bool]) -> T:
        """attempt() until it succeeds; faults for which transient(exc) is False propagate."""
        while True:
            if self.stop.is_set():
                raise Stopped(f"{self.service} stopped while waiting for {dependency}")
            try:
                result = attempt()
            except Exception as exc:
                if classify(dependency, exc) is None and not transient(exc):
                    raise
                self.failed(dependency, exc)
                continue
            self.ok(dependency)
            return result


def transient_kafka(exc: BaseException) -> bool:
    """A Kafka fault that waiting may heal (the broker away, restarting, electing leaders)."""
    return isinstance(exc, kafka_errors.KafkaError | OSError) and classify("kafka", exc) is None


def broker_reachable(bootstrap: str, timeout_s: float = 2.0) -> bool:
    """Some bootstrap server accepts a TCP connection (a cheap probe before a Kafka client, whose
    own first bootstrap can outlast a broker that is still starting)."""
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout_s).close()
            return True
        except (OSError, ValueError):
            continue
    return False


def require_broker(bootstrap: str) -> None:
    """Raise a retriable KafkaConnectionError unless some bootstrap server accepts connections."""
    if not broker_reachable(bootstrap):
        raise kafka_errors.KafkaConnectionError("no bootstrap server accepts connections")
