"""A processor store in memory, for the rule tests: the stages use processors.state.TableStore over
the worker's tables; a rule only needs a store's get and put (processors.state.Store)."""
from __future__ import annotations

from processors.state import State
from schemas import codec
from schemas.topics import Topic


class DictStore:
    """A store in memory over a state topic (or a `State`); entries round-trip through Avro like
    the table's."""

    def __init__(self, topic: Topic | State) -> None:
        self.topic = topic.topic if isinstance(topic, State) else topic
        self.data: dict[str, bytes] = {}

    def get(self, key: str) -> dict | None:
        raw = self.data.get(key)
        return None if raw is None else codec.decode_for(self.topic, raw)

    def put(self, rec: dict) -> None:
        self.data[rec[self.topic.key]] = codec.encode(self.topic.value_schema, rec)
