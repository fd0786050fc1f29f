"""The tests' own Kafka clients connect like every service: `KafkaConsumer(**kafka_options(bootstrap))`
authenticates as the admin principal (a super user, so a test may read or write any topic);
`service=` connects as that service's principal instead, allowed only its ACLs. The credentials are
the test process's settings (the session's RCM_KAFKA_SECRETS, tests/conftest.py): a test is its own
edge, as an `rcm` command is."""
from __future__ import annotations

from infra.kafka_acls import ADMIN
from infra.kafka_auth import client_options
from infra.settings import load


def kafka_options(bootstrap: str | None = None, service: str = ADMIN) -> dict:
    return client_options(service, bootstrap, settings=load())
