"""Three workers on a three-broker KRaft cluster (`rcm up --brokers 3`: replication factor 3,
min.insync.replicas 2, acks=all): one broker and one worker SIGKILLed mid-run and restarted, and
every balance still equals the ground truth to the cent, every remittance posted once.

The cluster runs under the test's own RCM_HOME on the ports after the session broker's
(RCM_TEST_KAFKA_PORT + 2 .. + 7); the database is the session's.
"""
from __future__ import annotations

import signal
from dataclasses import replace

import pytest

from infra import kafka, pipeline, services
from infra.kafka_acls import ADMIN
from producers.publish import publish
from producers.synthetic import generate
from tests.e2e.test_cluster import as_835, assert_exact, sink, wait_for, worker

pytestmark = pytest.mark.e2e

EVENTS = 12_000  # 20,000 with three brokers replicating on two shared cores outlasts the timeout


@pytest.fixture
def cluster(run_settings):
    local = replace(run_settings, home=run_settings.home / "cluster", kafka_bootstrap_servers="",
                    kafka_port=run_settings.kafka_port + 2, kafka_brokers=3)
    kafka.start(local)
    try:
        services.create_topics(settings=local)
        services.secure_kafka(local, any_group=True)  # the services' principals on this cluster
        yield local, replace(local, kafka_bootstrap_servers=local.bootstrap)
    finally:
        kafka.stop(local)


def test_topics_have_three_replicas_and_two_in_sync_at_least(cluster):
    from kafka.admin import ConfigResource, ConfigResourceType

    _local, settings = cluster
    assert settings.bootstrap.count(",") == 2
    admin = services.admin_client(settings=settings)
    try:
        for topic in admin.describe_topics(["ledger-entries", "claim-index", "claim-accounts"]):
            assert {len(p["replica_nodes"]) for p in topic["partitions"]} == {3}, topic["name"]
        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC,
                                                         "ledger-entries")])
        assert configs["topic"]["ledger-entries"]["min.insync.replicas"]["value"] == "2"
    finally:
        admin.close()


def test_three_workers_survive_a_sigkilled_broker_and_worker(cluster):
    local, settings = cluster
    scenario = generate(EVENTS, seed=41)
    records, moved = as_835(list(scenario.records))
    half = len(records) // 2
    workers = [worker(settings, i) for i in range(3)]
    sink_ = sink(settings)
    try:
        publish(records[:half], settings, service=ADMIN)  # 835s and hospital events
        wait_for(settings.dsn, "select count(*) from ledger_entries", 1500, [*workers, sink_])
        kafka.stop_node(local, 2, sig=signal.SIGKILL)
        workers[1].kill()
        publish(records[half:], settings, service=ADMIN)  # two of three replicas in sync: accepted
        kafka.start_node(local, 2)
        workers[1] = worker(settings, 1)
        pipeline.wait_drained(settings, [*workers, sink_], timeout=700)
    finally:
        for s in (*workers, sink_):
            s.stop()
    assert_exact(settings, scenario, moved)
