"""The tests' own Kafka clients connect like every service: `KafkaConsumer(**kafka_options(bootstrap))`
authenticates as the admin principal (a super user, so a test may read or write any topic);
`service=` connects as that service's principal instead, allowed only its ACLs."""
from __future__ import annotations

from infra.kafka_acls import ADMIN
from infra.kafka_auth import client_options


def kafka_options(bootstrap: str | None = None, service: str = ADMIN) -> dict:
    return client_options(service, bootstrap)
