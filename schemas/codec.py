"""Avro in the Confluent wire format: magic byte 0, 4-byte big-endian schema id, Avro body.

fastavro does the hot path; `avro` is used by the tests to prove both libraries write the same bytes.
"""
from __future__ import annotations

import io
import json
import struct
from functools import cache
from importlib import resources
from typing import Any, cast

import fastavro

from schemas.topics import SCHEMA_IDS, Topic

MAGIC = 0
_HEADER = struct.Struct(">bI")
_NAMES_BY_ID = {v: k for k, v in SCHEMA_IDS.items()}


class DecodeError(ValueError):
    """Bytes that are not a record this project can read. `kind` is MALFORMED or UNKNOWN_SCHEMA."""

    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def schema_json(name: str) -> dict:
    text = resources.files("schemas").joinpath("avro", f"{name}.avsc").read_text()
    return json.loads(text)


@cache
def parsed(name: str) -> Any:
    return fastavro.parse_schema(schema_json(name))


def encode(schema_name: str, record: dict) -> bytes:
    buf = io.BytesIO()
    buf.write(_HEADER.pack(MAGIC, SCHEMA_IDS[schema_name]))
    fastavro.schemaless_writer(buf, parsed(schema_name), record)
    return buf.getvalue()


def decode(data: bytes | None) -> tuple[str, dict]:
    """Return (schema name, record) or raise DecodeError."""
    if data is None or len(data) < _HEADER.size:
        raise DecodeError("MALFORMED", f"record of {0 if data is None else len(data)} bytes has no wire header")
    magic, schema_id = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise DecodeError("MALFORMED", f"magic byte {magic} is not 0 (not Confluent wire format)")
    name = _NAMES_BY_ID.get(schema_id)
    if name is None:
        raise DecodeError("UNKNOWN_SCHEMA", f"schema id {schema_id} is not registered")
    buf = io.BytesIO(data)
    buf.seek(_HEADER.size)
    try:
        record = fastavro.schemaless_reader(buf, parsed(name), None)
    except Exception as exc:  # fastavro raises many types on garbage
        raise DecodeError("MALFORMED", f"body does not decode as {name}: {type(exc).__name__}") from exc
    if buf.tell() != len(data):
        raise DecodeError("MALFORMED", f"{len(data) - buf.tell()} trailing bytes after {name}")
    return name, cast(dict, record)  # every registered schema is an Avro record


def decode_for(topic: Topic, data: bytes | None) -> dict:
    """Decode a record read from `topic`; a record of another type is UNKNOWN_SCHEMA for it."""
    name, record = decode(data)
    if name != topic.value_schema:
        raise DecodeError("UNKNOWN_SCHEMA", f"{name} is not accepted on topic {topic.name}")
    return record


def key_of(topic: Topic, record: dict) -> bytes:
    return str(record[topic.key]).encode()
