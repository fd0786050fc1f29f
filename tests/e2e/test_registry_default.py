"""The registry's ids are on the wire by default (issue 12): with no RCM_SCHEMA_REGISTRY_URL, the
producer, the processor and the sink all write the ids of the registry `rcm up` runs; the fixed ids
only with RCM_SCHEMA_REGISTRY_URL=none."""
from __future__ import annotations

import struct
import subprocess
import sys

import pytest

from infra import pipeline
from producers.bad import UNKNOWN_SCHEMA_ID
from schemas import codec
from schemas import topics as T
from schemas.registry import Registry, subject
from tests.support.kafka_client import read_every_topic

pytestmark = pytest.mark.e2e


def wire_ids(bootstrap: str) -> dict[str, set[int]]:
    """Every topic's schema ids, read from the 5-byte header of each of its Avro records."""
    found: dict[str, set[int]] = {}
    for record in read_every_topic(bootstrap):
        if not record.value or record.value[0] != 0:
            continue  # the synthetic hospital's deliberately malformed input
        _magic, schema_id = struct.unpack_from(">bI", record.value)
        if schema_id == UNKNOWN_SCHEMA_ID:
            continue  # ... and its record of an unknown schema
        found.setdefault(record.topic, set()).add(schema_id)
    return found


def as_by_default(env: dict[str, str]) -> dict[str, str]:
    """A child's environment as a user's shell has it: no registry named."""
    return {k: v for k, v in env.items() if k != "RCM_SCHEMA_REGISTRY_URL"}


def produce(settings, events: int, **env: str) -> None:
    argv = [sys.executable, "-m", "infra.cli", "produce", "synthetic", "--events", str(events),
            "--seed", "5"]
    done = subprocess.run(argv, env={**as_by_default(pipeline.child_env(settings)), **env},
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr


def test_producer_processor_and_sink_write_the_registrys_ids_by_default(run_settings):
    settings = run_settings
    logs = settings.home / "logs"
    services = [pipeline.rcm_service(name, settings, logs) for name in ("process", "sink")]
    for service in services:
        service.env = as_by_default(service.env)
        service.start()
    try:
        pipeline.wait_joined(settings, services[0])
        produce(settings, 400)
        pipeline.wait_drained(settings, services, timeout=600)
    finally:
        for service in services:
            service.stop()

    found = wire_ids(settings.bootstrap)
    # the producer's, the processor's and the sink's outputs
    assert {T.ENCOUNTERS.name, T.CLAIMS.name, T.LEDGER_ENTRIES.name, T.ACCOUNT_BALANCES.name} <= set(found)
    registry = Registry(settings.registry_url)
    for topic in T.ALL:
        if topic.name in found:
            expected = registry.lookup(subject(topic.name), codec.schema_json(topic.value_schema))
            assert found[topic.name] == {expected}, topic.name
            assert expected != T.SCHEMA_IDS[topic.value_schema]


def test_registry_none_keeps_the_fixed_ids(run_settings):
    produce(run_settings, 60, RCM_SCHEMA_REGISTRY_URL="none")
    found = wire_ids(run_settings.bootstrap)
    assert found[T.ENCOUNTERS.name] == {T.SCHEMA_IDS[T.ENCOUNTERS.value_schema]}
    assert all(ids == {T.SCHEMA_IDS[T.BY_NAME[name].value_schema]} for name, ids in found.items())
