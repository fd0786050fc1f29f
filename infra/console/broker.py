"""The console's Kafka clients, built here and nowhere else: the producer that publishes its
actions and the admin client the pipeline page reads. Both connect as the console's own principal
(`rcm-console`: infra/kafka_auth.client_options, ACLs in infra/kafka_acls.py)."""
from __future__ import annotations


def send(settings, outgoing: list, timeout_s: float) -> None:
    """Publish with the project's producer (Avro already encoded, acks=all, confirmed delivery);
    raises producers.publish.Undelivered when the broker did not confirm."""
    from producers.publish import publish

    publish(outgoing, settings, attempts=2, timeout_s=timeout_s, service="console")


def admin(settings):
    """The console process's one admin client (infra.pipeline.SharedAdmin): the pipeline page
    refreshes every few seconds, and a new client each time would be a new SASL handshake."""
    from kafka.admin import KafkaAdminClient

    from infra.kafka_auth import client_options
    from infra.pipeline import shared_admin

    return shared_admin(f"console@{settings.bootstrap}", lambda: KafkaAdminClient(
        **client_options("console", settings=settings), client_id="rcm-console",
        request_timeout_ms=5000))
