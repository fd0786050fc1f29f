"""The local schema registry as a service: `rcm up` starts it and registers every topic's schema,
`rcm down` stops it, `rcm schemas check` asks it about the working tree.

No Confluent-compatible registry installs from the registries this project may use (docs/security.md
says what was tried), so `rcm up` runs the project's own (infra/registry_server.py) on 127.0.0.1,
state under $RCM_HOME/registry. Any registry with that API replaces it through
RCM_SCHEMA_REGISTRY_URL. `rcm up` registers every topic's schema under `<topic>-value`.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from infra.settings import Settings


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
    return pid if b"infra.registry_server" in cmdline else None


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
                [sys.executable, "-m", "infra.registry_server", "--port", str(settings.registry_port),
                 "--data", str(home(settings))],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        pid = proc.pid
        pid_file(settings).write_text(f"{pid}\n")
    deadline = time.monotonic() + timeout_s
    while not _answers(settings.registry_url):
        gone = proc.poll() is not None if proc else running_pid(settings) is None
        if time.monotonic() > deadline or gone:
            if proc is not None and not gone:  # ours and mute: leave nothing running behind us
                proc.kill()
                proc.wait()
                pid_file(settings).unlink(missing_ok=True)
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

    before = codec.registry_url()
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
        codec.use_registry(before)
    return {"codec_fixed_ids": max(fixed), "codec_registry_ids": max(cached),
            "registry_first_lookup_ms": first_ms}
