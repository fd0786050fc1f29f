"""A sink never reads from where Kafka says when PostgreSQL, which holds its offsets, is away
during an assignment (issue 15)."""
from __future__ import annotations

import psycopg2
from kafka import TopicPartition

from sinks.postgres.offsets import SeekToStored


class Cursor:
    def __init__(self, conn):
        self.conn = conn

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, sql, args):
        if self.conn.away:
            raise psycopg2.OperationalError("server closed the connection unexpectedly")

    def fetchall(self):
        return [("claims", 0, 42)]


class Conn:
    def __init__(self, away):
        self.away = away

    def cursor(self):
        return Cursor(self)

    def rollback(self):
        pass


class Consumer:
    def __init__(self, assigned):
        self.assigned, self.sought = set(assigned), {}

    def assignment(self):
        return set(self.assigned)

    def seek(self, tp, offset):
        self.sought[tp] = offset

    def seek_to_beginning(self, tp):
        self.sought[tp] = 0


def test_partitions_assigned_while_postgres_is_away_wait_until_sought():
    tps = {TopicPartition("claims", 0), TopicPartition("claims", 1)}
    consumer = Consumer(tps)
    listener = SeekToStored(consumer, Conn(away=True), "g")
    listener.on_partitions_assigned(tps)
    assert listener.unsought == tps and consumer.sought == {}

    listener.conn = Conn(away=False)  # the sink reconnected
    listener.seek(listener.unsought)
    assert listener.unsought == set()
    assert consumer.sought == {TopicPartition("claims", 0): 42, TopicPartition("claims", 1): 0}


def test_a_revoked_partition_is_no_longer_waited_for():
    tps = {TopicPartition("claims", 0), TopicPartition("claims", 1)}
    listener = SeekToStored(Consumer(tps), Conn(away=True), "g")
    listener.on_partitions_assigned(tps)
    listener.on_partitions_revoked({TopicPartition("claims", 1)})
    assert listener.unsought == {TopicPartition("claims", 0)}
