"""Read back what the console published (the test's view of the broker)."""
from __future__ import annotations

import time

from schemas import codec
from tests.support.kafka_client import kafka_options


def find_event(bootstrap: str, topic, event_id: str, timeout_s: float = 30.0) -> list[dict]:
    """Every record on `topic` with this event id (decoded)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(**kafka_options(bootstrap), enable_auto_commit=False,
                             consumer_timeout_ms=2000)
    try:
        parts = [TopicPartition(topic.name, p) for p in consumer.partitions_for_topic(topic.name)]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        found: list[dict] = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and any(consumer.position(p) < ends[p] for p in parts):
            for records in consumer.poll(timeout_ms=1000).values():
                for rec in records:
                    try:
                        value = codec.decode_for(topic, rec.value)
                    except codec.DecodeError:  # another test's deliberately bad input on this topic
                        continue
                    if value["event_id"] == event_id:
                        found.append(value)
        return found
    finally:
        consumer.close()
