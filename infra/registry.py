"""The local schema registry: the Confluent Schema Registry REST API (Avro), on 127.0.0.1.

No Confluent-compatible registry installs from the registries this project may use (docs/security.md
says what was tried), so `rcm up` runs this one: the part of the API that serializers,
deserializers, `kafka-avro-console-consumer` and Kafka Connect use (subjects, versions, global ids,
compatibility config and checks), with BACKWARD compatibility checked by the `avro` library and its
state in one JSON file under $RCM_HOME/registry. Any registry with that API replaces it through
RCM_SCHEMA_REGISTRY_URL. `rcm up` registers every topic's schema under `<topic>-value`.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

from avro.errors import AvroException

from infra.settings import Settings

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
    parser = argparse.ArgumentParser(prog="python -m infra.registry")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data", type=Path, required=True)
    args = parser.parse_args(argv)
    serve(args.port, args.data)
    return 0


# --- the local service: start, stop, register (rcm up / down) -------------------------------------

def home(settings: Settings) -> Path:
    return settings.home / "registry"


def pid_file(settings: Settings) -> Path:
    return home(settings) / "registry.pid"


def running_pid(settings: Settings) -> int | None:
    try:
        pid = int(pid_file(settings).read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if b"infra.registry" in cmdline else None


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/config", timeout=2):
            return True
    except OSError:
        return False


def start(settings: Settings, timeout_s: float = 30) -> int:
    pid, proc = running_pid(settings), None
    if pid is None:
        home(settings).mkdir(parents=True, exist_ok=True)
        with open(home(settings) / "registry.log", "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "infra.registry", "--port", str(settings.registry_port),
                 "--data", str(home(settings))],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        pid = proc.pid
        pid_file(settings).write_text(f"{pid}\n")
    deadline = time.monotonic() + timeout_s
    while not _answers(settings.registry_url):
        gone = proc.poll() is not None if proc else running_pid(settings) is None
        if time.monotonic() > deadline or gone:
            raise RuntimeError(f"the schema registry (pid {pid}) did not answer on "
                               f"{settings.registry_url}; see {home(settings) / 'registry.log'}")
        time.sleep(0.1)
    return pid


def stop(settings: Settings, timeout_s: float = 10) -> bool:
    pid = running_pid(settings)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while running_pid(settings) is not None and time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)
    if running_pid(settings) is not None:
        os.kill(pid, signal.SIGKILL)
    pid_file(settings).unlink(missing_ok=True)
    return True


def register_all(url: str) -> dict[str, int]:
    """Set BACKWARD and register every topic's value schema under `<topic>-value`."""
    from schemas import codec, registry
    from schemas import topics as T

    client = registry.Registry(url)
    ids = {}
    for topic in T.ALL:
        subject = registry.subject(topic.name)
        client.set_compatibility("BACKWARD", subject)
        ids[subject] = client.register(subject, codec.schema_json(topic.value_schema))
    return ids


def incompatible(url: str) -> list[str]:
    """The subjects whose working-tree schema the registry would refuse."""
    from schemas import codec, registry
    from schemas import topics as T

    client = registry.Registry(url)
    return [registry.subject(t.name) for t in T.ALL
            if not client.compatible(registry.subject(t.name), codec.schema_json(t.value_schema))]


def cmd_schemas(args: argparse.Namespace) -> int:
    from infra.settings import load

    settings = load()
    if not settings.registry_url:
        print("rcm schemas: no registry (RCM_SCHEMA_REGISTRY_URL, or `rcm up`)", file=sys.stderr)
        return 2
    refused = incompatible(settings.registry_url)
    for subject in refused:
        print(f"incompatible: {subject} (the registry's {subject} is BACKWARD: new fields need "
              f"defaults, enum symbols are appended)", file=sys.stderr)
    if not refused:
        print(f"every schema is compatible with {settings.registry_url}")
    return 1 if refused else 0


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("action", choices=["check"],
                        help="check: compare the working tree's .avsc with the registry")


if __name__ == "__main__":
    sys.exit(main())


def codec_rates(records, url: str) -> dict[str, float]:
    """Records/s of encode + decode with the fixed ids, then with the registry's (cached after the
    first lookup of each id), on the same records; and the first lookup's cost in ms. For `rcm bench`."""
    from schemas import codec

    decoded = []
    for record in records:
        try:
            decoded.append(codec.decode(record.value))
        except codec.DecodeError:
            continue

    def rate() -> float:
        start = time.perf_counter()
        for name, value in decoded:
            codec.decode(codec.encode(name, value))
        return len(decoded) / (time.perf_counter() - start)

    try:
        codec.use_registry(url)
        start = time.perf_counter()
        codec.encode(*decoded[0])
        first_ms = (time.perf_counter() - start) * 1000
        rate()  # every id looked up once
        registry_ids = codec.ids()
        fixed, cached = [], []
        for _ in range(3):  # alternated, so a busy moment of the machine hits both
            codec.use_registry("")
            fixed.append(rate())
            codec._ids = registry_ids
            cached.append(rate())
    finally:
        codec.use_registry(os.environ.get("RCM_SCHEMA_REGISTRY_URL", ""))
    return {"codec_fixed_ids": max(fixed), "codec_registry_ids": max(cached),
            "registry_first_lookup_ms": first_ms}
