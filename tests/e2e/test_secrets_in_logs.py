"""No password or account id in what a run leaves behind (issue 12): the processor's and the sink's
logs at INFO, the PostgreSQL server log, dead-letter reasons. Metrics listen on 127.0.0.1 only."""
from __future__ import annotations

import socket
from dataclasses import replace
from pathlib import Path

import pytest

from infra import credentials, pipeline, postgres, report
from producers.publish import publish
from producers.synthetic import generate

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> list[str]:
    """The local addresses (hex, as in /proc/net/tcp*) of the sockets listening on `port`."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                found.append(local.rsplit(":", 1)[0])
    return found


def test_a_run_logs_no_account_id_and_no_password(services, run_settings):
    settings = replace(run_settings, processor_metrics_port=free_port(), sink_metrics_port=free_port())
    scenario = generate(600, seed=23)
    logs = settings.home / "logs"
    processor = pipeline.rcm_service("process", settings, logs).start()
    sink = pipeline.rcm_service("sink", settings, logs).start()
    try:
        publish(scenario.records, settings)
        pipeline.wait_drained(settings, [processor, sink], timeout=600)
        for port in (settings.processor_metrics_port, settings.sink_metrics_port):
            assert listening(port) == ["0100007F"]  # 127.0.0.1, nothing else
    finally:
        processor.stop()
        sink.stop()

    texts = {path.name: path.read_text(errors="replace") for path in logs.glob("*.log")}
    assert set(texts) == {"process.log", "sink.log"} and all(texts.values())
    if services.manages_postgres:
        texts["postgres.log"] = postgres.log_file(services.settings).read_text(errors="replace")
    texts["dead letter reasons"] = "\n".join(
        r[0] for r in report.query(settings.dsn, "select reason from dead_letters"))
    assert texts["dead letter reasons"]  # the scenario's bad records were dead-lettered

    accounts = list(scenario.truth["accounts"])
    assert report.query(settings.dsn, "select count(*) from account_balances") == [(len(accounts),)]
    passwords = list(credentials.passwords(services.settings.home).values())
    passwords += [f.read_text().strip() for f in services.settings.kafka_secrets_dir.iterdir()]
    assert len(passwords) > 4  # the Kafka principals' too
    for name, text in texts.items():
        assert [a for a in accounts if a in text] == [], name
        assert [p for p in passwords if p in text] == [], name
