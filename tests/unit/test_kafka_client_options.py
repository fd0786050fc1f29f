"""client_options: every Kafka client connects as its service's principal, in each client
library's spelling; no password is printed by `rcm env`."""
from __future__ import annotations

from dataclasses import replace

import pytest

from infra.credentials import env_lines
from infra.kafka_auth import KafkaAuthError, client_options, ensure_passwords, password_file
from infra.settings import Settings


def local(tmp_path) -> Settings:
    return replace(Settings(), home=tmp_path, kafka_bootstrap_servers="127.0.0.1:40000",
                   kafka_secrets="", kafka_security_protocol="", kafka_sasl_username="",
                   kafka_sasl_password_file="", kafka_ssl_cafile="")


def test_without_credentials_a_client_connects_in_plaintext(tmp_path):
    assert client_options("sink", settings=local(tmp_path)) == {
        "bootstrap_servers": "127.0.0.1:40000", "security_protocol": "PLAINTEXT"}


def test_with_the_local_secrets_each_service_logs_in_as_its_own_principal(tmp_path):
    settings = local(tmp_path)
    ensure_passwords(settings)
    assert (password_file(settings, "sink").stat().st_mode & 0o777) == 0o600
    options = client_options("sink", settings=settings)
    assert options["security_protocol"] == "SASL_PLAINTEXT"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "rcm-sink"
    assert options["sasl_plain_password"] == password_file(settings, "sink").read_text().strip()
    assert client_options("processor", settings=settings)["sasl_plain_password"] != \
        options["sasl_plain_password"]


def test_the_processors_aiokafka_clients_log_in_as_the_processor(tmp_path):
    from processors import runtime

    settings = local(tmp_path)
    ensure_passwords(settings)
    for options in (runtime.client_options(settings), runtime.consumer_options(settings),
                    runtime.producer_options(settings)):
        assert options["security_protocol"] == "SASL_PLAINTEXT"
        assert options["sasl_plain_username"] == "rcm-processor"
        assert options["sasl_plain_password"] == \
            password_file(settings, "processor").read_text().strip()
        assert options["bootstrap_servers"] == ["127.0.0.1:40000"]
        assert options["client_id"] == settings.app_id


def test_an_existing_cluster_names_one_user_and_its_password_file(tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    settings = replace(local(tmp_path), kafka_sasl_username="svc-rcm",
                       kafka_sasl_password_file=str(secret), kafka_sasl_mechanism="SCRAM-SHA-256")
    options = client_options("processor", flavour="aiokafka", settings=settings)
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("svc-rcm", "s3cret")
    assert options["sasl_mechanism"] == "SCRAM-SHA-256"


def test_a_missing_password_file_names_the_folder_not_a_secret(tmp_path):
    settings = replace(local(tmp_path), kafka_security_protocol="SASL_PLAINTEXT")
    with pytest.raises(KafkaAuthError, match="rcm-sink"):
        client_options("sink", settings=settings)


def test_rcm_env_names_the_password_file_never_the_password(tmp_path):
    settings = replace(local(tmp_path), database_url="postgresql://rcm@h/rcm")
    ensure_passwords(settings)
    text = "\n".join(env_lines(settings))
    assert "KAFKA_SASL_USERNAME=rcm-analytics" in text
    assert f"KAFKA_SASL_PASSWORD_FILE={password_file(settings, 'analytics')}" in text
    for path in settings.kafka_secrets_dir.iterdir():
        assert path.read_text().strip() not in text


def test_clients_use_the_settings_passed_in_not_the_environment(tmp_path, monkeypatch):
    import kafka
    import kafka.admin

    from processors.watchdog import OrphanWatch
    from producers.publish import make_producer

    elsewhere = local(tmp_path / "env")
    ensure_passwords(elsewhere)  # what a load() from the environment would find
    monkeypatch.setenv("RCM_KAFKA_SECRETS", str(elsewhere.kafka_secrets_dir))
    monkeypatch.setenv("RCM_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    settings = local(tmp_path / "cmd")
    ensure_passwords(settings)
    built = []

    class Client:
        def __init__(self, *topics, **options):
            built.append(options)

        def close(self):
            pass

    monkeypatch.setattr(kafka, "KafkaProducer", Client)
    monkeypatch.setattr(kafka, "KafkaConsumer", Client)
    monkeypatch.setattr(kafka.admin, "KafkaAdminClient", Client)
    make_producer(settings, service="hl7")
    OrphanWatch(settings, "g", {"encounters"}, held=lambda: 0, rejoin=lambda: None,
                after_s=1).check_once(now=0)  # connects, then cannot tell with these clients
    assert [(o["bootstrap_servers"], o["sasl_plain_username"], o["sasl_plain_password"])
            for o in built] == [
        ("127.0.0.1:40000", "rcm-hl7", password_file(settings, "hl7").read_text().strip()),
        *[("127.0.0.1:40000", "rcm-processor",
           password_file(settings, "processor").read_text().strip())] * 2]
