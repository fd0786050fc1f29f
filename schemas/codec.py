"""Avro in the Confluent wire format: magic byte 0, 4-byte big-endian schema id, Avro body.

fastavro does the hot path; `avro` is used by the tests to prove both libraries write the same bytes.

Schema ids: the registry's once the process's edge has named one (`use_registry(settings.registry_url)`:
infra/cli.py for every `rcm` command, the test session for its services); each schema is
registered under `<topic>-value`, TopicNameStrategy; ids and writer schemas are cached once looked
up, so a record written with an older version of a contract decodes into the current one.
Otherwise (no registry named, or RCM_SCHEMA_REGISTRY_URL=none) the fixed ids of schemas/topics.py,
the offline default.
"""
from __future__ import annotations

import io
import json
import struct
import threading
from functools import cache
from importlib import resources
from typing import Any, cast

import fastavro

from schemas import registry as registry_api
from schemas.topics import ALL, SCHEMA_IDS, Topic

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


class _Ids:
    """Which id to write for a schema, and which schema an id names: fixed, or the registry's."""

    def __init__(self, url: str):
        self.registry = registry_api.Registry(url) if url else None
        self.write: dict[str, int] = {} if url else dict(SCHEMA_IDS)
        self.read: dict[int, tuple[str, Any]] = {} if url else {
            i: (n, None) for i, n in _NAMES_BY_ID.items()}
        self.lock = threading.Lock()

    def id_for(self, name: str) -> int:
        found = self.write.get(name)
        if found is None:
            if self.registry is None:  # offline: every known name has its fixed id
                raise KeyError(f"no schema id for {name!r}")
            topic = next((t.name for t in ALL if t.value_schema == name), name)
            with self.lock:
                found = self.write[name] = self.registry.register(
                    registry_api.subject(topic), schema_json(name))
                self.read.setdefault(found, (name, None))
        return found

    def schema_for(self, schema_id: int) -> tuple[str, Any] | None:
        """(record name, writer schema or None when it is the current one), None if unknown."""
        found = self.read.get(schema_id)
        if found is None and self.registry is not None:
            try:
                writer = self.registry.schema_by_id(schema_id)
            except registry_api.RegistryError as failure:
                if failure.status != 404:
                    raise
                return None
            name = writer.get("name") if isinstance(writer, dict) else None
            if name not in SCHEMA_IDS:
                return None
            current = writer == schema_json(name)
            found = self.read[schema_id] = (name, None if current else fastavro.parse_schema(writer))
        return found


_ids = _Ids("")


def ids() -> _Ids:
    return _ids


def use_registry(url: str) -> None:
    """Read and write the ids of the registry at `url` ("" for the fixed ids) from now on."""
    global _ids
    _ids = _Ids(url)


def registry_url() -> str:
    """The registry this process encodes and decodes with ("": the fixed ids)."""
    return _ids.registry.url if _ids.registry is not None else ""


def encode(schema_name: str, record: dict) -> bytes:
    buf = io.BytesIO()
    buf.write(_HEADER.pack(MAGIC, ids().id_for(schema_name)))
    fastavro.schemaless_writer(buf, parsed(schema_name), record)
    return buf.getvalue()


class _Handling:
    """The record a processor stage is handling now, with the bytes it was read from."""

    record: dict | None = None
    data: bytes | None = None
    name: str | None = None


_handling = _Handling()


def handling(record: dict | None, data: bytes | None = None, name: str | None = None) -> None:
    """Say which record (decoded from `data`, of schema `name`) the stages handle now; None
    when done (processors.stage.run_batch, in the worker's one loop thread)."""
    _handling.record, _handling.data, _handling.name = record, data, name


def encode_as_read(schema_name: str, record: dict) -> bytes:
    """`record` in wire format: the very bytes it was read from when it is the record being
    handled (a rule keeping its input as it came, such as the encounter held in coding-pending
    or a remittance waiting for its claim; the rules never change their input), else encoded."""
    if record is _handling.record and schema_name == _handling.name:
        return cast(bytes, _handling.data)
    return encode(schema_name, record)


def decode(data: bytes | None) -> tuple[str, dict]:
    """Return (schema name, record) or raise DecodeError."""
    if data is None or len(data) < _HEADER.size:
        raise DecodeError("MALFORMED", f"record of {0 if data is None else len(data)} bytes has no wire header")
    magic, schema_id = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise DecodeError("MALFORMED", f"magic byte {magic} is not 0 (not Confluent wire format)")
    found = ids().schema_for(schema_id)
    if found is None:
        raise DecodeError("UNKNOWN_SCHEMA", f"schema id {schema_id} is not registered")
    name, writer = found
    buf = io.BytesIO(data)
    buf.seek(_HEADER.size)
    try:
        if writer is None:
            record = fastavro.schemaless_reader(buf, parsed(name), None)
        else:
            record = fastavro.schemaless_reader(buf, writer, parsed(name))
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
