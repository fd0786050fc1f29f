"""The console's Kafka clients, built here and nowhere else: the producer that publishes its
actions and the admin client the pipeline page reads. Connection settings (the bootstrap servers,
and whatever security a deployment adds) belong in these two functions."""
from __future__ import annotations


def send(settings, outgoing: list, timeout_s: float) -> None:
    """Publish with the project's producer (Avro already encoded, acks=all, confirmed delivery);
    raises producers.publish.Undelivered when the broker did not confirm."""
    from producers.publish import publish

    publish(outgoing, settings.bootstrap, attempts=2, timeout_s=timeout_s)


def admin(settings):
    from kafka.admin import KafkaAdminClient

    return KafkaAdminClient(bootstrap_servers=settings.bootstrap, client_id="rcm-console",
                            request_timeout_ms=5000)
