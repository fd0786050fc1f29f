"""The schema registry `rcm up` runs (issue 12): TopicNameStrategy subjects, BACKWARD compatibility,
registry ids on the wire, old versions still decoding, `rcm schemas check`."""
from __future__ import annotations

import copy
import io
import os
import socket
import subprocess
import sys
from dataclasses import replace

import fastavro
import pytest

from infra import registry as local_registry
from infra.settings import Settings
from producers.synthetic import generate
from schemas import codec
from schemas import topics as T
from schemas.registry import Registry, RegistryError, subject


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def registry_url(tmp_path):
    settings = replace(Settings(), home=tmp_path, registry_port=free_port())
    local_registry.start(settings)
    try:
        yield settings.registry_url
    finally:
        codec.use_registry("")
        assert local_registry.stop(settings)


def without(schema: dict, field: str) -> dict:
    changed = copy.deepcopy(schema)
    changed["fields"] = [f for f in changed["fields"] if f["name"] != field]
    return changed


def test_every_topic_is_registered_under_its_value_subject_with_backward(registry_url):
    ids = local_registry.register_all(registry_url)
    client = Registry(registry_url)
    # Confluent lists subjects sorted, Apicurio in the order registered: the same list either way
    assert sorted(client.subjects()) == sorted(f"{t.name}-value" for t in T.ALL)
    assert client._call("GET", "/config/claims-value") == {"compatibilityLevel": "BACKWARD"}
    # one schema, one id, whichever topic carries it
    assert ids["remittances-value"] == ids["remittances-unmatched-value"]
    assert ids["claims-value"] == ids["claims-submitted-value"]
    assert len(set(ids.values())) == len(T.SCHEMA_IDS)
    assert local_registry.register_all(registry_url) == ids  # idempotent: `rcm up` twice


def test_an_incompatible_change_is_refused_and_a_compatible_one_becomes_a_version(registry_url):
    local_registry.register_all(registry_url)
    client = Registry(registry_url)
    current = codec.schema_json("EncounterReceived")
    required = copy.deepcopy(current)
    required["fields"].append({"name": "ward", "type": "string"})
    with pytest.raises(RegistryError) as refused:
        client.register("encounters-value", required)
    assert refused.value.status == 409
    optional = copy.deepcopy(current)
    optional["fields"].append({"name": "ward", "type": ["null", "string"], "default": None})
    new_id = client.register("encounters-value", optional)
    assert new_id != client.lookup("encounters-value", current)
    assert client._call("GET", "/subjects/encounters-value/versions") == [1, 2]


def test_rcm_schemas_check_fails_on_an_incompatible_working_tree(registry_url):
    local_registry.register_all(registry_url)
    env = dict(os.environ, RCM_SCHEMA_REGISTRY_URL=registry_url)
    cmd = [sys.executable, "-m", "infra.cli", "schemas", "check"]
    assert subprocess.run(cmd, check=False, env=env, capture_output=True, text=True).returncode == 0

    # The registry moves on without a field the working tree still requires (no default): the
    # working tree's claims schema could no longer read what the registry's latest writes.
    claims = codec.schema_json("ClaimBuilt")
    required = next(f["name"] for f in claims["fields"] if "default" not in f)
    Registry(registry_url).register("claims-value", without(claims, required))
    done = subprocess.run(cmd, check=False, env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert "incompatible: claims-value" in done.stderr
    assert "claims-submitted-value" not in done.stderr


def test_the_wire_carries_registry_ids_and_an_older_version_still_decodes(registry_url):
    current = codec.schema_json("EncounterReceived")
    optional = next(f["name"] for f in current["fields"] if "default" in f)
    older = without(current, optional)
    record = next(codec.decode_for(T.ENCOUNTERS, r.value) for r in generate(40, seed=3).records
                  if r.topic == T.ENCOUNTERS and not r.bad)  # written offline, fixed ids
    client = Registry(registry_url)
    old_id = client.register("encounters-value", older)
    codec.use_registry(registry_url)

    wire = codec.encode("EncounterReceived", record)
    new_id = int.from_bytes(wire[1:5], "big")
    assert new_id == client.lookup("encounters-value", current) != old_id
    assert codec.decode(wire) == ("EncounterReceived", record)

    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, fastavro.parse_schema(older),
                               {k: v for k, v in record.items() if k != optional})
    name, decoded = codec.decode(codec._HEADER.pack(0, old_id) + buf.getvalue())
    default = next(f["default"] for f in current["fields"] if f["name"] == optional)
    assert (name, decoded) == ("EncounterReceived", {**record, optional: default})

    with pytest.raises(codec.DecodeError) as unknown:
        codec.decode(codec._HEADER.pack(0, 9999) + buf.getvalue())
    assert unknown.value.kind == "UNKNOWN_SCHEMA"
    assert subject("encounters") == "encounters-value"


def test_a_record_with_an_offline_id_is_unknown_to_the_registry_not_misread(registry_url):
    offline = codec.encode("EncounterReceived", next(
        codec.decode_for(T.ENCOUNTERS, r.value) for r in generate(40, seed=3).records
        if r.topic == T.ENCOUNTERS and not r.bad))
    ids = local_registry.register_all(registry_url)
    assert min(ids.values()) > max(T.SCHEMA_IDS.values())
    codec.use_registry(registry_url)
    with pytest.raises(codec.DecodeError) as unknown:
        codec.decode(offline)
    assert unknown.value.kind == "UNKNOWN_SCHEMA"


def test_a_schema_that_is_not_avro_is_refused_and_the_registry_keeps_answering(registry_url):
    client = Registry(registry_url)
    with pytest.raises(RegistryError) as refused:
        client.register("encounters-value", {"type": "record", "name": "X", "fields": [
            {"name": "a", "type": "no-such-type"}]})
    assert refused.value.status == 422
    assert client.register("encounters-value", codec.schema_json("EncounterReceived")) > 1000


def listening_addresses(port: int) -> set[str]:
    """The local addresses a TCP socket listens on at `port` (/proc/net/tcp and tcp6, hex)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                local, state = row.split()[1], row.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:
                    found.add(address)
    return found


def test_ids_survive_a_restart_and_the_registry_listens_on_loopback_only(tmp_path):
    settings = replace(Settings(), home=tmp_path, registry_port=free_port())
    local_registry.start(settings)
    try:
        # 127.0.0.1, on an IPv4 socket or IPv4-mapped on an IPv6 one (Java's): nothing else
        assert listening_addresses(settings.registry_port) <= {
            "0100007F", "0000000000000000FFFF00000100007F"}
        assert listening_addresses(settings.registry_port)
        ids = local_registry.register_all(settings.registry_url)
        assert min(ids.values()) == local_registry.FIRST_ID
        claims = codec.schema_json("ClaimBuilt")
        assert local_registry.stop(settings)
        assert local_registry.running_pid(settings) is None

        local_registry.start(settings)  # the same H2 file: records on the topics keep their ids
        assert local_registry.register_all(settings.registry_url) == ids
        client = Registry(settings.registry_url)
        assert client.schema_by_id(ids["claims-value"]) == claims
        optional = copy.deepcopy(claims)
        optional["fields"].append({"name": "ward", "type": ["null", "string"], "default": None})
        assert client.register("claims-value", optional) == max(ids.values()) + 1  # not reused
    finally:
        local_registry.stop(settings)
