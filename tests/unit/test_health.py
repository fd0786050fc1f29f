"""/healthz and /readyz on a service's metrics port (issue 15)."""
from __future__ import annotations

import socket

from infra.health import Health, probe, serve


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_service_is_live_at_once_and_ready_only_when_connected_and_assigned():
    health = Health("sink")
    port = free_port()
    server = serve(health, port)
    try:
        assert probe(port, "/healthz")[0] == 200
        code, body = probe(port, "/readyz")
        assert code == 503 and body["reasons"] == [
            "not connected to kafka", "not connected to postgres", "no partitions assigned"]
        health.set_connected("kafka", True)
        health.set_connected("postgres", True)
        health.set_partitions(15)
        health.commit()
        code, body = probe(port, "/readyz")
        assert code == 200 and body["connected"] == {"kafka": True, "postgres": True}
        assert body["partitions"] == 15 and body["seconds_since_commit"] < 5
        health.set_connected("postgres", False)  # the database went away: alive, not ready
        assert probe(port, "/readyz")[0] == 503 and probe(port, "/healthz")[0] == 200
        metrics = probe(port, "/metrics")
        assert metrics[0] is None or metrics[0] == 200  # text, not JSON
    finally:
        server.shutdown()
        server.server_close()


def test_a_loop_that_stopped_turning_is_not_live():
    health = Health("mllp", needs=("kafka",), consumer=False, stall_s=0.0)
    report = health.report()
    assert not report["live"] and not report["ready"]
    assert report["reasons"][0].startswith("main loop has not turned")


def test_nothing_listening_is_no_answer():
    assert probe(free_port()) == (None, {})
