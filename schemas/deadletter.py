"""The one builder of a DeadLetter record (dead-letters topic), for producers, stages and sinks.

Its id is what makes a redelivery write the same row: `offset_id` for a record that was read from
Kafka (topic, partition, offset, stage); producers and stages that keep state pass their own.
Partition and offset are -1 where the input never reached Kafka or the offset is unknown."""
from __future__ import annotations

import time
from datetime import datetime


def offset_id(topic: str, partition: int, offset: int, stage: str) -> str:
    return f"{topic}:{partition}:{offset}:{stage}"


def dead_letter(event_id: str, source_topic: str, stage: str, error: str, reason: str, *,
                payload: bytes, key: bytes | None = None, partition: int = -1, offset: int = -1,
                at: int | datetime | None = None) -> dict:
    """`at`: epoch milliseconds or an aware datetime (both encode as timestamp-millis); now if None."""
    return {
        "event_id": event_id,
        "source_topic": source_topic,
        "source_partition": partition,
        "source_offset": offset,
        "stage": stage,
        "error": error,
        "reason": reason,
        "key": key,
        "payload": payload,
        "dead_lettered_at": int(time.time() * 1000) if at is None else at,
    }
