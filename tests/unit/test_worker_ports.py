"""`rcm process --workers N`: each worker its own metrics port, none another service's, and its own
stable static member id (issue 10)."""
from __future__ import annotations

import socket
from dataclasses import replace

import pytest

from infra.settings import load
from processors import worker as W
from processors.runtime import consumer_options, instance_id


def settings(**kw):
    kw = {"processor_metrics_port": 9101, "processor_worker_metrics_port": 9111,
          "sink_metrics_port": 9102, "sink_x12_metrics_port": 9103, "mllp_metrics_port": 9104,
          "kafka_port": 19092, "postgres_port": 15432, "registry_port": 18081, "app_id": "rcm-x",
          **kw}
    return replace(load(), **kw)


def test_worker_0_keeps_the_processor_port_and_the_others_take_the_worker_range():
    assert W.worker_ports(settings(), 4) == [9101, 9111, 9112, 9113]  # never the sink's 9102
    assert W.worker_ports(settings(processor_metrics_port=0), 3) == [0, 0, 0]  # metrics off


def test_a_worker_port_on_another_service_stops_start_up_naming_the_setting():
    with pytest.raises(W.PortClash, match="9103.*RCM_PROCESSOR_WORKER_METRICS_PORT \\+ 1.*"
                                          "RCM_SINK_X12_METRICS_PORT"):
        W.worker_ports(settings(processor_worker_metrics_port=9102, sink_metrics_port=0), 3)
    with pytest.raises(W.PortClash, match="RCM_KAFKA_PORT"):
        W.worker_ports(settings(processor_metrics_port=19094), 1)
    with pytest.raises(W.PortClash, match="overlap"):
        W.worker_ports(settings(processor_worker_metrics_port=9101), 2)


def test_rcm_process_refuses_to_start_with_a_clash(monkeypatch, capsys):
    started = []
    monkeypatch.setattr(W, "supervise", lambda *a: started.append(a) or 0)
    args = type("Args", (), {"workers": 2, "loglevel": "info"})()
    assert W.process(args, settings(processor_worker_metrics_port=9103)) == 2 and started == []
    assert "RCM_SINK_X12_METRICS_PORT" in capsys.readouterr().err


def test_each_worker_gets_its_port_and_a_distinct_index_the_same_at_every_start():
    envs = W.worker_env(settings(), 3, 4242)
    assert [e["RCM_PROCESSOR_METRICS_PORT"] for e in envs] == ["9101", "9111", "9112"]
    assert [e["RCM_PROCESSOR_INSTANCE"] for e in envs] == ["0", "1", "2"]
    assert all(e[W.SUPERVISOR_ENV] == "4242" for e in envs)
    assert W.worker_env(settings(), 3, 4343)[1]["RCM_PROCESSOR_INSTANCE"] == "1"  # restarted


def test_a_worker_with_an_index_is_a_static_member_named_by_app_host_and_index():
    host = socket.gethostname()
    assert instance_id(settings(processor_instance="2")) == f"rcm-x-{host}-2"
    assert consumer_options(settings(processor_instance="2"))["group_instance_id"] == \
        f"rcm-x-{host}-2"
    assert instance_id(settings(processor_instance="")) is None  # a lone `rcm process`: dynamic
    assert "group_instance_id" not in consumer_options(settings(processor_instance=""))


def test_a_static_worker_the_orphan_watchdog_gives_up_on_leaves_the_group_before_it_exits(
        monkeypatch):
    from processors import runtime as R

    calls: list = []
    monkeypatch.setattr(R, "leave_group", lambda s, static: calls.append(("leave", static)))
    give_up = R.leaving_first(settings(processor_instance="1"), lambda: calls.append("exit"))
    give_up()
    assert calls == [("leave", f"rcm-x-{socket.gethostname()}-1"), "exit"]
    dynamic = lambda: None
    assert R.leaving_first(settings(processor_instance=""), dynamic) is dynamic


def test_rcm_process_takes_its_settings_from_the_environment_once_at_start(monkeypatch):
    ran = []
    monkeypatch.setenv("RCM_LOG_LEVEL", "INFO")
    monkeypatch.setenv("RCM_APP_ID", "rcm-from-env")
    monkeypatch.setattr(W, "run_worker", lambda ctx, stages, level: ran.append((ctx, level)) or 0)
    assert W.cmd_process(type("Args", (), {"workers": 1, "loglevel": None})()) == 0
    [(ctx, level)] = ran
    assert (ctx.settings.app_id, level) == ("rcm-from-env", "info")


def test_the_worker_shell_is_built_from_the_settings_passed_in(tmp_path):
    from processors.app import make_app

    app = make_app(settings(app_id="rcm-shell", home=tmp_path, kafka_bootstrap_servers="h:1"))
    assert app.conf.id == "rcm-shell"
    assert [str(url) for url in app.conf.broker] == ["kafka://h:1"]
    assert str(app.conf.datadir).startswith(str(tmp_path / "faust"))
