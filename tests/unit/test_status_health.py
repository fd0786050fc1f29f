"""`rcm status` shows each service's health from its /readyz (issue 15)."""
from __future__ import annotations

from dataclasses import replace

import pytest

from infra.health import Health, serve
from infra.settings import load
from infra.status import render_health, service_health
from tests.unit.test_health import free_port


def test_status_shows_ready_not_ready_and_not_running_services():
    sink, mllp = Health("sink"), Health("mllp", needs=("kafka",), consumer=False)
    sink.set_connected("kafka", True)
    sink.set_connected("postgres", True)
    sink.set_partitions(57)
    ports = [free_port() for _ in range(4)]
    servers = [serve(sink, ports[1]), serve(mllp, ports[3])]
    settings = replace(load(), processor_metrics_port=ports[0], sink_metrics_port=ports[1],
                       sink_x12_metrics_port=0, mllp_metrics_port=ports[3])
    try:
        rows = {r["service"]: r for r in service_health(settings)}
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()
    assert set(rows) == {"processor", "sink", "mllp"}  # a port of 0 is not shown
    assert rows["processor"]["state"] == "not running"
    assert rows["sink"]["state"] == "ready" and rows["sink"]["partitions"] == 57
    assert rows["mllp"]["state"] == "not ready"
    assert rows["mllp"]["reasons"] == ["not connected to kafka"]
    text = "\n".join(render_health(list(rows.values())))
    assert "sink" in text and "57" in text and "(not connected to kafka)" in text


@pytest.mark.parametrize("service, needs, others", [
    ("processor", ("kafka",), ("sink_metrics_port",)),
    ("sink", ("kafka", "postgres"), ("processor_metrics_port",)),
])
def test_status_shows_every_worker_of_a_service_on_its_worker_ports(service, needs, others):
    """`rcm process --workers N` and `rcm sink --workers N`: worker 2 on the worker range."""
    first, second = Health(service, needs=needs), Health(service, needs=needs)
    for dependency in needs:
        second.set_connected(dependency, True)
    second.set_partitions(44)
    servers = []
    for health in (first, second):
        for _ in range(50):
            port = free_port()
            server = serve(health, port)
            if server is not None:
                servers.append((port, server))
                break
    (port, _), (worker_port, _) = servers
    off = dict.fromkeys((*others, "sink_x12_metrics_port", "mllp_metrics_port"), 0)
    settings = replace(load(), **{f"{service}_metrics_port": port,
                                  f"{service}_worker_metrics_port": worker_port}, **off)
    try:
        rows = {r["service"]: r for r in service_health(settings)}
    finally:
        for _, s in servers:
            s.shutdown()
            s.server_close()
    assert rows[service]["state"] == "not ready"
    assert rows[f"{service}-2"]["state"] == "ready" and rows[f"{service}-2"]["partitions"] == 44
    assert rows[f"{service}-2"]["port"] == worker_port
    assert f"{service}-3" not in rows
