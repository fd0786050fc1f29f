"""Resume a kafka-python consumer from the offsets a sink stored in PostgreSQL with its data."""
from __future__ import annotations

import logging

import psycopg2
from kafka.consumer.subscription_state import ConsumerRebalanceListener

from sinks.postgres import writer

log = logging.getLogger("rcm.sink")


class SeekToStored(ConsumerRebalanceListener):
    """On assignment, resume every partition from the offset PostgreSQL committed with the data
    (from the beginning where none is stored).

    When PostgreSQL cannot answer during an assignment (it is restarting), the partitions are
    kept in `unsought`: the sink must not apply what it reads until `seek` has put them back
    where PostgreSQL says (its main loop calls it once the database is back).

    `before` runs first in both callbacks: a sink that writes one batch while it reads the next
    waits there for the batch in flight, so the connection is free and the stored offsets are
    final before anything is sought."""

    def __init__(self, consumer, conn, group: str, before=None):
        self.consumer, self.conn, self.group = consumer, conn, group
        self.before = before or (lambda: None)
        self.unsought: set = set()

    def on_partitions_revoked(self, revoked):
        self.before()
        self.unsought.difference_update(revoked)

    def on_partitions_assigned(self, assigned):
        self.before()
        try:
            self.seek(assigned)
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            self.unsought.update(assigned)
            log.warning("group %s: %d partitions assigned while PostgreSQL is away (%s); "
                        "reading waits until they are sought", self.group, len(assigned),
                        type(exc).__name__)

    def seek(self, partitions) -> None:
        """Seek `partitions` to the offsets stored in PostgreSQL (raises when it is away)."""
        partitions = set(partitions)
        stored = writer.stored_offsets(self.conn, self.group)
        assigned = self.consumer.assignment()
        for tp in partitions:
            if tp not in assigned:
                continue  # revoked meanwhile
            offset = stored.get((tp.topic, tp.partition))
            if offset is None:
                self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, offset)
        self.unsought.difference_update(partitions)
        log.info("group %s: %d partitions sought, %d with stored offsets", self.group,
                 len(partitions), sum((tp.topic, tp.partition) in stored for tp in partitions))
