"""The broker takes coding-pending's retention as the registry gives it: compacted, and an entry
not written again for 400 days deleted (docs/operations.md)."""
from __future__ import annotations

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from schemas.topics import CODING_PENDING, VISITS_PENDING
from tests.support.kafka_client import kafka_options


def test_the_broker_keeps_coding_pending_entries_400_days_after_their_last_write(fresh_topics):
    admin = KafkaAdminClient(**kafka_options(fresh_topics))
    try:
        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t.name)
                                          for t in (CODING_PENDING, VISITS_PENDING)])
    finally:
        admin.close()
    topics = configs["topic"]
    pending, visits = topics[CODING_PENDING.name], topics[VISITS_PENDING.name]
    assert (pending["cleanup.policy"]["value"], pending["retention.ms"]["value"]) == (
        "compact,delete", str(400 * 24 * 3600 * 1000))
    assert visits["cleanup.policy"]["value"] == "compact"
