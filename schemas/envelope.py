"""The one envelope of an outgoing record, for producers, stages and the console: a topic from the
registry, the key, the encoded value, and how it is sent."""
from __future__ import annotations

from dataclasses import dataclass

from schemas import codec
from schemas.topics import Topic


@dataclass(frozen=True)
class Outgoing:
    topic: Topic
    key: bytes
    value: bytes
    partition: int | None = None  # None: the default partitioner on `key`
    stamp_at: int | None = None  # byte offset of emitted_at, stamped at send (producers.publish)
    bad: str | None = None  # the synthetic bad-record kind (producers.bad.KINDS), None when good
    handled_by: tuple[str, ...] = ()  # processor stages that already ran on it (HANDLED_BY)


# A record header naming the processor stages (comma-separated) that already ran on the record in
# the stage that wrote it (fused stages: claims are built in the pass that codes the encounter).
# The stages named skip it when it is read back (processors.stage.run_batch); a record no stage
# is left for is not even decoded.
HANDLED_BY = "rcm-handled-by"


def record(topic: Topic, rec: dict, handled_by: tuple[str, ...] = ()) -> Outgoing:
    """`rec` encoded as the topic's value schema, keyed by the topic's key field."""
    return Outgoing(topic, codec.key_of(topic, rec), codec.encode(topic.value_schema, rec),
                    handled_by=handled_by)
