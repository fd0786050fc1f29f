"""Watchers keep one Kafka client per process (issue 12): `infra.pipeline.lag`, polled every 0.5 s
by rcm demo, bench, chaos and the e2e tests, and the console's pipeline page build their admin
client once and reuse it, instead of a SASL/SCRAM handshake per poll."""
from __future__ import annotations

from dataclasses import replace

from infra import pipeline
from infra.console import broker
from infra.console.ops import broker_status
from schemas import topics as T


def test_lag_polls_reuse_one_admin_client(services, database_url):
    settings = replace(services.settings, database_url=database_url)
    pipeline.close_admins()
    first = pipeline.lag(settings)
    for _ in range(5):
        again = pipeline.lag(settings)
        assert again.ends == first.ends
    pipeline.group_state(settings, settings.app_id)
    assert pipeline.admin(settings).built == 1
    assert set(first.ends) >= {(T.ENCOUNTERS.name, p) for p in range(T.ENCOUNTERS.partitions)}


def test_the_console_pipeline_page_reuses_its_client(services):
    pipeline.close_admins()
    for _ in range(3):
        found = broker_status(services.settings)
        assert {t["topic"] for t in found["topics"]} >= {T.ENCOUNTERS.name, T.CLAIMS.name}
    assert broker.admin(services.settings).built == 1
