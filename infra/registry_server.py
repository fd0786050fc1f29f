"""The local schema registry's server: the Confluent Schema Registry REST API (Avro), on 127.0.0.1.

The part of the API that serializers, deserializers, `kafka-avro-console-consumer` and Kafka
Connect use: subjects, versions, global ids, compatibility config and checks (by the `avro`
library), state in one JSON file. Started by `infra.registry.start` as
`python -m infra.registry_server --port P --data DIR`; see docs/security.md for why it exists.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

from avro.errors import AvroException

# Registry ids start above the fixed offline ids of schemas/topics.py, so a record written offline
# and read with the registry is an unknown id (a dead letter), never another schema's bytes.
ID_BASE = 1000
LEVELS = {"NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL",
          "FULL_TRANSITIVE"}


class Store:
    """Subjects -> versions -> global ids; one id per distinct schema text. Thread-safe."""

    def __init__(self, path: Path):
        self.path = path
        self.lock = threading.Lock()
        state = json.loads(path.read_text()) if path.exists() else {}
        self.schemas: list[str] = state.get("schemas", [])  # id = ID_BASE + index + 1
        self.subjects: dict[str, list[int]] = state.get("subjects", {})  # version = index + 1
        self.config: dict[str, str] = state.get("config", {"": "BACKWARD"})

    def _save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"schemas": self.schemas, "subjects": self.subjects,
                                   "config": self.config}))
        os.replace(tmp, self.path)

    @staticmethod
    def canonical(schema: str) -> str:
        return json.dumps(json.loads(schema), sort_keys=True, separators=(",", ":"))

    def level(self, subject: str) -> str:
        return self.config.get(subject, self.config[""])

    def compatible(self, subject: str, schema: str) -> bool:
        from avro import compatibility
        from avro import schema as avro_schema

        versions = self.subjects.get(subject, [])
        level = self.level(subject)
        if level == "NONE" or not versions:
            return True
        against = versions if level.endswith("TRANSITIVE") else versions[-1:]
        new = avro_schema.parse(schema)
        checker = compatibility.ReaderWriterCompatibilityChecker()
        ok = compatibility.SchemaCompatibilityType.compatible
        for schema_id in against:
            old = avro_schema.parse(self.text(schema_id))
            pairs = {"BACKWARD": [(new, old)], "FORWARD": [(old, new)],
                     "FULL": [(new, old), (old, new)]}[level.replace("_TRANSITIVE", "")]
            if any(checker.get_compatibility(r, w).compatibility != ok for r, w in pairs):
                return False
        return True

    def text(self, schema_id: int) -> str:
        return self.schemas[schema_id - ID_BASE - 1]

    def known(self, schema_id: int) -> bool:
        return 0 <= schema_id - ID_BASE - 1 < len(self.schemas)

    def find(self, subject: str, schema: str) -> tuple[int, int] | None:
        """(version, id) of the schema in the subject."""
        text = self.canonical(schema)
        for version, schema_id in enumerate(self.subjects.get(subject, []), 1):
            if self.text(schema_id) == text:
                return version, schema_id
        return None

    def register(self, subject: str, schema: str) -> int | None:
        """The schema's id, registering it as the subject's next version; None if incompatible."""
        from avro import schema as avro_schema

        avro_schema.parse(schema)  # not Avro: refused (422), whatever the subject holds
        with self.lock:
            found = self.find(subject, schema)
            if found:
                return found[1]
            if not self.compatible(subject, schema):
                return None
            text = self.canonical(schema)
            if text not in self.schemas:
                self.schemas.append(text)
            schema_id = ID_BASE + self.schemas.index(text) + 1
            self.subjects.setdefault(subject, []).append(schema_id)
            self._save()
            return schema_id

    def set_level(self, subject: str, level: str) -> None:
        with self.lock:
            self.config[subject] = level
            self._save()


class Api(BaseHTTPRequestHandler):
    store: Store
    routes: ClassVar[list[tuple[str, str, str]]] = [
        ("GET", r"/subjects", "subjects"),
        ("GET", r"/subjects/([^/]+)/versions", "versions"),
        ("GET", r"/subjects/([^/]+)/versions/(latest|\d+)", "version"),
        ("POST", r"/subjects/([^/]+)/versions", "register"),
        ("POST", r"/subjects/([^/]+)", "lookup"),
        ("GET", r"/schemas/ids/(\d+)", "by_id"),
        ("GET", r"/config(?:/([^/]+))?", "get_config"),
        ("PUT", r"/config(?:/([^/]+))?", "put_config"),
        ("POST", r"/compatibility/subjects/([^/]+)/versions/(latest|\d+)", "check"),
    ]

    def log_message(self, *args) -> None:  # requests carry no PHI, but stay quiet like the rest
        pass

    def _answer(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, code: int, message: str) -> None:
        self._answer(status, {"error_code": code, "message": message})

    def _dispatch(self, method: str) -> None:
        path = urllib.request.unquote(self.path.split("?", 1)[0]).rstrip("/")
        for verb, pattern, name in self.routes:
            match = re.fullmatch(pattern, path)
            if verb == method and match:
                body = {}
                if method in ("POST", "PUT"):
                    length = int(self.headers.get("Content-Length") or 0)
                    body = json.loads(self.rfile.read(length) or b"{}")
                try:
                    return getattr(self, name)(*match.groups(), **({"body": body} if body else {}))
                except (ValueError, KeyError, TypeError, AvroException) as bad:
                    return self._error(422, 42201, f"invalid schema: {type(bad).__name__}")
                except Exception as failure:  # noqa: BLE001 (answer 500, never drop the connection)
                    return self._error(500, 50001, f"registry error: {type(failure).__name__}")
        self._error(404, 404, "not found")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def subjects(self) -> None:
        self._answer(200, sorted(self.store.subjects))

    def versions(self, subject: str) -> None:
        if subject not in self.store.subjects:
            return self._error(404, 40401, f"subject {subject} not found")
        self._answer(200, list(range(1, len(self.store.subjects[subject]) + 1)))

    def version(self, subject: str, version: str) -> None:
        ids = self.store.subjects.get(subject)
        if not ids:
            return self._error(404, 40401, f"subject {subject} not found")
        number = len(ids) if version == "latest" else int(version)
        if not 1 <= number <= len(ids):
            return self._error(404, 40402, f"version {version} not found")
        schema_id = ids[number - 1]
        self._answer(200, {"subject": subject, "version": number, "id": schema_id,
                           "schema": self.store.text(schema_id)})

    def register(self, subject: str, body: dict) -> None:
        schema_id = self.store.register(subject, body["schema"])
        if schema_id is None:
            return self._error(409, 409, f"schema is incompatible with the {self.store.level(subject)}"
                                         f" versions of {subject}")
        self._answer(200, {"id": schema_id})

    def lookup(self, subject: str, body: dict) -> None:
        if subject not in self.store.subjects:
            return self._error(404, 40401, f"subject {subject} not found")
        found = self.store.find(subject, body["schema"])
        if not found:
            return self._error(404, 40403, "schema not found")
        self._answer(200, {"subject": subject, "version": found[0], "id": found[1],
                           "schema": self.store.text(found[1])})

    def by_id(self, schema_id: str) -> None:
        number = int(schema_id)
        if not self.store.known(number):
            return self._error(404, 40403, f"schema {number} not found")
        self._answer(200, {"schema": self.store.text(number)})

    def get_config(self, subject: str | None) -> None:
        self._answer(200, {"compatibilityLevel": self.store.level(subject or "")})

    def put_config(self, subject: str | None, body: dict) -> None:
        level = body.get("compatibility", "")
        if level not in LEVELS:
            return self._error(422, 42203, f"invalid compatibility level {level!r}")
        self.store.set_level(subject or "", level)
        self._answer(200, {"compatibility": level})

    def check(self, subject: str, version: str, body: dict) -> None:
        self._answer(200, {"is_compatible": self.store.compatible(subject, body["schema"])})


def serve(port: int, data: Path) -> None:
    data.mkdir(parents=True, exist_ok=True)
    Api.store = Store(data / "schemas.json")
    server = ThreadingHTTPServer(("127.0.0.1", port), Api)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.registry_server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data", type=Path, required=True)
    args = parser.parse_args(argv)
    serve(args.port, args.data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
