"""`rcm up --brokers 3`: the server properties of each node of the local KRaft cluster, and the
bootstrap list the other commands use. The single-broker default stays as it was."""
from __future__ import annotations

from dataclasses import replace

from infra import kafka
from infra.kafka_auth import ensure_passwords
from infra.settings import Settings


def props(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line)


def test_a_three_broker_cluster_has_three_voters_three_replicas_and_two_in_sync(tmp_path):
    settings = replace(Settings(), home=tmp_path, kafka_port=40000, kafka_brokers=3,
                       kafka_bootstrap_servers="", kafka_secrets="")
    ensure_passwords(settings)
    assert settings.bootstrap == "127.0.0.1:40000,127.0.0.1:40002,127.0.0.1:40004"
    second = props(kafka.server_properties(settings, 2))
    assert second["node.id"] == "2"
    assert second["listeners"] == "BROKER://127.0.0.1:40002,CONTROLLER://127.0.0.1:40003"
    assert second["controller.quorum.voters"] == \
        "1@127.0.0.1:40001,2@127.0.0.1:40003,3@127.0.0.1:40005"
    assert second["log.dirs"] == str(tmp_path / "kafka-2" / "data")
    for key in ("default.replication.factor", "offsets.topic.replication.factor",
                "transaction.state.log.replication.factor"):
        assert second[key] == "3", key
    assert second["min.insync.replicas"] == second["transaction.state.log.min.isr"] == "2"


def test_the_single_broker_default_is_unchanged(tmp_path):
    settings = replace(Settings(), home=tmp_path, kafka_port=40000, kafka_brokers=0,
                       kafka_bootstrap_servers="", kafka_secrets="")
    ensure_passwords(settings)
    assert settings.brokers == 1 and settings.bootstrap == "127.0.0.1:40000"
    one = props(kafka.server_properties(settings))
    assert one["node.id"] == "1"
    assert one["controller.quorum.bootstrap.servers"] == "127.0.0.1:40001"
    assert "controller.quorum.voters" not in one
    assert one["default.replication.factor"] == one["min.insync.replicas"] == "1"
    assert one["log.dirs"] == str(tmp_path / "kafka" / "data")


def test_later_commands_find_the_cluster_rcm_up_started(tmp_path):
    (tmp_path / "kafka").mkdir()
    (tmp_path / "kafka" / "brokers").write_text("3\n")
    settings = replace(Settings(), home=tmp_path, kafka_port=40000, kafka_brokers=0,
                       kafka_bootstrap_servers="")
    assert settings.brokers == 3 and settings.bootstrap.count(",") == 2
