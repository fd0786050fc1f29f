"""Reconnection with bounded backoff, and the faults a service must not wait out (issue 15)."""
from __future__ import annotations

import random
import threading

import psycopg2
import pytest
from kafka import errors as kafka_errors

from infra.reconnect import (
    EXIT_CONFIG,
    EXIT_PERMISSION,
    RETRIES,
    Backoff,
    Fatal,
    Retry,
    Stopped,
    classify,
    transient_kafka,
    transient_postgres,
)


def test_backoff_doubles_from_the_first_delay_and_never_passes_the_cap():
    backoff = Backoff(0.5, 8.0, rng=random.Random(1))
    delays = [backoff.next() for _ in range(10)]
    ceilings = [min(8.0, 0.5 * 2 ** n) for n in range(10)]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings))
    assert max(delays) <= 8.0
    backoff.reset()
    assert backoff.next() <= 0.5


def test_a_restarting_server_is_waited_out_and_refused_access_is_not():
    gone = psycopg2.OperationalError("server closed the connection unexpectedly\n"
                                     "\tThis probably means the server terminated abnormally")
    assert classify("postgres", gone) is None and transient_postgres(gone)
    assert transient_postgres(psycopg2.InterfaceError("connection already closed"))
    refused = psycopg2.OperationalError('connection to server at "127.0.0.1", port 5432 failed: '
                                        'FATAL:  password authentication failed for user "rcm"')
    assert classify("postgres", refused).code == EXIT_PERMISSION
    missing = psycopg2.OperationalError('FATAL:  database "rcmx" does not exist')
    assert classify("postgres", missing).code == EXIT_CONFIG
    assert classify("kafka", kafka_errors.KafkaTimeoutError()) is None
    assert transient_kafka(kafka_errors.KafkaConnectionError())
    assert classify("kafka", kafka_errors.TopicAuthorizationFailedError()).code == EXIT_PERMISSION
    assert classify("kafka", kafka_errors.KafkaConfigurationError("bad")).code == EXIT_CONFIG


def test_retry_calls_until_the_dependency_answers_and_counts_each_retry():
    states, calls = [], []

    def attempt():
        calls.append(1)
        if len(calls) < 4:
            raise psycopg2.OperationalError("connection refused")
        return "conn"

    before = RETRIES.labels("postgres")._value.get()
    retry = Retry("test", 0.001, 0.004, on_state=lambda d, up: states.append((d, up)))
    assert retry.call("postgres", attempt, transient_postgres) == "conn"
    assert len(calls) == 4
    assert RETRIES.labels("postgres")._value.get() - before == 3
    assert states == [("postgres", False)] * 3 + [("postgres", True)]


def test_retry_gives_up_at_once_on_refused_access_and_when_stopped():
    def refused():
        raise psycopg2.OperationalError("FATAL:  password authentication failed for user \"x\"")

    with pytest.raises(Fatal) as fatal:
        Retry("test", 0.001, 0.01).call("postgres", refused, transient_postgres)
    assert fatal.value.code == EXIT_PERMISSION and "\"x\"" not in str(fatal.value)

    stop = threading.Event()

    def away():
        stop.set()  # SIGTERM arrives while the server is away
        raise psycopg2.OperationalError("connection refused")

    with pytest.raises(Stopped):
        Retry("test", 5.0, 5.0, stop).call("postgres", away, transient_postgres)


def test_a_programming_error_is_not_retried():
    def broken():
        raise KeyError("a bug, not an outage")

    with pytest.raises(KeyError):
        Retry("test", 0.001, 0.01).call("postgres", broken, transient_postgres)
