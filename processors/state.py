"""Processor state: tables in memory whose changelogs are the registry's compacted state topics
(`coding-pending`, `visits-pending`, `claim-accounts`, ...).

Each entry is one Avro record of its state topic, keyed by the topic's key field. A stage reads
and writes it through a store (`Store`: get and put): `TableStore` over a `Table` in the worker
(restored from the state topic's partitions the worker holds, processors.runtime); the rule tests
use one in memory (tests/support/stores.py). It imports only the schemas (the stage helpers when a
table is written), so the pure rule modules can use it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from schemas import codec
from schemas import topics as T
from schemas.topics import Topic


@dataclass(frozen=True)
class State:
    """A piece of processor state: a table over the compacted state topic `topic`, each
    entry on the partition of its `partition_by` field's value (None: the topic's key field).
    Stages declare the states they read and write; the worker checks that each is co-partitioned
    with the stage's input (processors.stage.check_copartitioned)."""

    topic: Topic
    partition_by: str | None = None

    @property
    def field(self) -> str:
        return self.partition_by or self.topic.key

    @property
    def name(self) -> str:
        return self.topic.name


# Every state of the processor, with the field that places its entries.
CODING_PENDING = State(T.CODING_PENDING, "account_id")  # encounters in review, by encounter
VISITS_PENDING = State(T.VISITS_PENDING, "account_id")  # visits being assembled, by visit
CLAIM_ACCOUNTS = State(T.CLAIM_ACCOUNTS)  # claim id -> account, waiting remittances, by claim id
DENIAL_PATTERN_COUNTS = State(T.DENIAL_PATTERN_COUNTS)  # distinct denials per pattern, by rule id
SCRUB_RULES = State(T.SCRUB_RULES)  # decided scrub rules, by rule id (broadcast to the builder)
CLAIM_STATE = State(T.CLAIM_STATE, "account_id")  # each claim's last version, by claim id
ENCOUNTER_CHARGES = State(T.ENCOUNTER_CHARGES, "account_id")  # charges posted, by encounter
DENIALS_OPEN = State(T.DENIALS_OPEN, "account_id")  # each denial's appeal lifecycle, by denial
STATES: tuple[State, ...] = (CODING_PENDING, VISITS_PENDING, CLAIM_ACCOUNTS, DENIAL_PATTERN_COUNTS,
                             SCRUB_RULES, CLAIM_STATE, ENCOUNTER_CHARGES, DENIALS_OPEN)


class Store(Protocol):
    def get(self, key: str) -> dict | None: ...

    def put(self, rec: dict) -> None: ...


class Table:
    """The entries of one state topic on the partitions the worker holds: `data` (key bytes ->
    Avro value bytes) and the partition each entry sits on, so a revoked partition is dropped."""

    def __init__(self, topic: Topic | None = None) -> None:
        self.topic = topic
        self.data: dict[bytes, bytes] = {}
        self.partition_of: dict[bytes, int] = {}

    def put(self, key: bytes, value: bytes | None, partition: int) -> None:
        if value is None:  # a tombstone
            self.data.pop(key, None)
            self.partition_of.pop(key, None)
            return
        self.data[key] = value
        self.partition_of[key] = partition

    def drop(self, partitions) -> None:
        """Forget every entry on `partitions` (revoked, or about to be restored again)."""
        gone = set(partitions)
        for key in [k for k, p in self.partition_of.items() if p in gone]:
            del self.partition_of[key]
            self.data.pop(key, None)

    def clear(self) -> None:
        self.data.clear()
        self.partition_of.clear()


class TableStore:
    """A table as a store.

    `put` changes the local copy at once and queues the changelog record in `writes`; the stage
    sends those with its other output, so state and results reach Kafka before the offsets that
    caused them are committed. `topic` is a state topic or a `State`; `partition_by` names the field whose value picks the changelog
    partition (the account, so the entry sits with the events it joins); None: the key's own.
    """

    def __init__(self, table, topic: Topic, partition_by: str | None = None) -> None:
        if isinstance(topic, State):
            topic, partition_by = topic.topic, topic.partition_by
        self.table, self.topic, self.partition_by = table, topic, partition_by
        self.writes: list = []  # processors.stage.Outgoing

    def get(self, key: str) -> dict | None:
        raw = self.table.data.get(key.encode())
        return None if raw is None else codec.decode_for(self.topic, raw)

    def put(self, rec: dict) -> None:
        from processors.stage import Outgoing, partition_for

        key = str(rec[self.topic.key]).encode()
        value = codec.encode(self.topic.value_schema, rec)
        by = key if self.partition_by is None else str(rec[self.partition_by]).encode()
        partition = partition_for(by, self.topic.partitions)
        self.table.put(key, value, partition)
        self.writes.append(Outgoing(self.topic, key, value, partition))
