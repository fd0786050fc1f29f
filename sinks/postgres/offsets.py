"""Resume a kafka-python consumer from the offsets a sink stored in PostgreSQL with its data."""
from __future__ import annotations

import logging

from kafka.consumer.subscription_state import ConsumerRebalanceListener

from sinks.postgres import writer

log = logging.getLogger("rcm.sink")


class SeekToStored(ConsumerRebalanceListener):
    """On assignment, resume every partition from the offset PostgreSQL committed with the data
    (from the beginning where none is stored)."""

    def __init__(self, consumer, conn, group: str):
        self.consumer, self.conn, self.group = consumer, conn, group

    def on_partitions_revoked(self, revoked):
        pass  # nothing to flush: every batch is committed before the next poll

    def on_partitions_assigned(self, assigned):
        stored = writer.stored_offsets(self.conn, self.group)
        for tp in assigned:
            offset = stored.get((tp.topic, tp.partition))
            if offset is None:
                self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, offset)
        log.info("group %s: assigned %d partitions, %d with stored offsets", self.group,
                 len(assigned), sum((tp.topic, tp.partition) in stored for tp in assigned))
