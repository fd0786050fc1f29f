"""The scrub-rules mirror (processors.broadcast.TopicMirror) started while a broker restarts: the
failed start closes its client and keeps no partial rules, so the worker's retry starts clean."""
from __future__ import annotations

from typing import ClassVar

import kafka
import pytest
from kafka.errors import KafkaTimeoutError

from infra.reconnect import Retry, transient_kafka
from infra.settings import Settings
from processors.broadcast import TopicMirror
from schemas import topics as T

NOWHERE = Settings(kafka_bootstrap_servers="127.0.0.1:1")


class _Consumer:
    """A client whose first `fails` end_offsets calls time out (no leader yet), then reads one
    record per partition."""

    made: ClassVar[list] = []
    fails: ClassVar[int] = 0

    def __init__(self, **_options) -> None:
        self.closed = False
        self.read = False
        _Consumer.made.append(self)

    def assign(self, tps) -> None:
        self.tps = tps

    def seek_to_beginning(self, *_tps) -> None:
        pass

    def end_offsets(self, tps):
        if _Consumer.fails:
            _Consumer.fails -= 1
            raise KafkaTimeoutError("Failed to get offsets by timestamps in 60000 ms")
        return {tp: 1 for tp in tps}

    def position(self, _tp) -> int:
        return 1 if self.read else 0

    def poll(self, timeout_ms: int = 0):
        self.read = True
        return {tp: [type("R", (), {"key": f"rule-{tp.partition}".encode(), "value": b"v"})()]
                for tp in self.tps}

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def consumers(monkeypatch):
    _Consumer.made, _Consumer.fails = [], 0
    monkeypatch.setattr(kafka, "KafkaConsumer", _Consumer)
    return _Consumer


def test_a_start_that_fails_closes_its_client_and_keeps_nothing(consumers):
    consumers.fails = 1
    mirror = TopicMirror(T.SCRUB_RULES, NOWHERE)
    mirror.data[b"stale"] = b"x"
    with pytest.raises(KafkaTimeoutError):
        mirror.start()
    assert consumers.made[0].closed and mirror.data == {}


def test_the_worker_retry_waits_out_a_restarting_broker(consumers):
    consumers.fails = 2
    mirror = TopicMirror(T.SCRUB_RULES, NOWHERE)
    started = Retry("processor", 0.01, 0.02).call("kafka", mirror.start, transient_kafka)
    try:
        assert started is mirror
        assert [c.closed for c in consumers.made] == [True, True, False]
        assert mirror.data == {f"rule-{p}".encode(): b"v" for p in range(T.SCRUB_RULES.partitions)}
    finally:
        mirror.stop()
