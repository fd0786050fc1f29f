"""Every metrics port in the settings is its own: `rcm sink --workers N` no longer puts worker 1 on
RCM_SINK_METRICS_PORT + 1 (the X12 sink's), and no default collides with another."""
from __future__ import annotations

import os
from dataclasses import replace

import pytest

from infra.settings import Settings
from processors.worker import worker_ports as processor_ports
from sinks.postgres import workers as W


@pytest.fixture
def defaults(monkeypatch) -> Settings:
    """The settings with no RCM_* variable set: the defaults."""
    for name in [n for n in os.environ if n.startswith("RCM_")]:
        monkeypatch.delenv(name)
    return Settings()


def test_no_default_metrics_ports_collide_with_four_processor_and_four_sink_workers(defaults):
    s = defaults
    ports = {
        "processors": processor_ports(s, 4),
        "sinks": W.worker_ports(s, 4, s.sink_metrics_port),
        "sink-x12": [s.sink_x12_metrics_port],
        "mllp": [s.mllp_metrics_port],
    }
    every = [p for group in ports.values() for p in group]
    assert len(every) == len(set(every)) == 10, ports
    assert not set(every) & {s.postgres_port, s.registry_port, *range(s.kafka_port, s.kafka_port + 6)}
    assert ports["sinks"] == [9102, 9121, 9122, 9123]  # worker 0 where `rcm status` looks first


def test_a_sink_worker_port_on_another_service_names_the_setting(defaults):
    s = defaults
    with pytest.raises(W.PortClash, match="9103.*RCM_SINK_WORKER_METRICS_PORT \\+ 0.*"
                                          "RCM_SINK_X12_METRICS_PORT"):
        W.worker_ports(replace(s, sink_worker_metrics_port=9103), 2, 9102)
    with pytest.raises(W.PortClash, match="overlap"):
        W.worker_ports(replace(s, sink_worker_metrics_port=9102), 2, 9102)
    assert W.worker_ports(s, 3, 0) == [0, 0, 0]  # metrics off


def test_rcm_sink_workers_refuses_to_start_with_a_clash(defaults, monkeypatch, capsys):
    started = []
    monkeypatch.setattr(W.subprocess, "Popen", lambda *a, **kw: started.append(a))
    s = replace(defaults, sink_worker_metrics_port=9104)
    assert W.supervise(3, [], 9102, "RCM_SINK_SUPERVISOR_PID", s) == 2 and started == []
    assert "RCM_MLLP_METRICS_PORT" in capsys.readouterr().err
