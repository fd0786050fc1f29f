"""The local schema registry as a service: `rcm up` starts it and registers every topic's schema,
`rcm down` stops it, `rcm schemas check` asks it about the working tree.

The registry is Apicurio Registry 3.0.9, built once from Maven Central into infra/registry/app
(`ensure_runner`: infra/registry/pom.xml, git-ignored output) and run on 127.0.0.1 with its state in
an H2 database file under $RCM_HOME/registry. Clients use its Confluent-compatible API
(`Settings.registry_url`, .../apis/ccompat/v7). Its ids start at 1001 (`_seed_ids`), above the
fixed offline ids of schemas/topics.py. Any registry with that API replaces it through
RCM_SCHEMA_REGISTRY_URL. `rcm up` registers every topic's schema under `<topic>-value`.
"""
from __future__ import annotations

import argparse
import glob
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from infra.messages import sayer
from infra.settings import Settings
from schemas.registry import Registry

INFRA = Path(__file__).resolve().parent
PROJECT = INFRA / "registry"  # pom.xml (the application), stand-ins for unserved jars
APP = PROJECT / "app"  # the built Quarkus application, git-ignored
RUNNER = APP / "quarkus-run.jar"
APICURIO = "3.0.9"
PARENT_SERVED = "3.0.7"  # the nearest served parent POM (3.0.9's is not served)
CONFIG_INDEX_SERVED = "3.0.6"  # the nearest served config-index deployment jar
FIRST_ID = 1001  # above every fixed id (schemas/topics.py SCHEMA_IDS)
HEAP = "-Xmx256m"

say = sayer("registry")


class RegistryBuildError(RuntimeError):
    pass


def _mvn(*args: str, cwd: Path = PROJECT) -> None:
    cmd = ["mvn", "-q", "-B", *args]
    done = subprocess.run(cmd, check=False, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RegistryBuildError(f"building the schema registry failed ({' '.join(cmd)}):\n"
                                 f"{done.stdout[-3000:]}{done.stderr[-3000:]}")


def _install_stand_ins(work: Path) -> None:
    """The three io.apicurio artifacts at 3.0.9 that Maven Central's mirror here does not serve,
    installed into the local repository from their nearest served versions (infra/registry/pom.xml)."""
    work.mkdir(parents=True, exist_ok=True)
    # run where no pom.xml is: the application's own cannot be read before its parent exists
    _mvn("dependency:copy", f"-Dartifact=io.apicurio:apicurio-registry:{PARENT_SERVED}:pom",
         f"-DoutputDirectory={work}", cwd=work)
    served = (work / f"apicurio-registry-{PARENT_SERVED}.pom").read_text()
    own = f"<artifactId>apicurio-registry</artifactId>\n  <version>{PARENT_SERVED}</version>"
    if own not in served:
        raise RegistryBuildError(f"unexpected apicurio-registry {PARENT_SERVED} parent POM")
    parent = work / f"apicurio-registry-{APICURIO}.pom"
    parent.write_text(served.replace(own, own.replace(PARENT_SERVED, APICURIO), 1))
    _mvn("install:install-file", f"-Dfile={parent}", f"-DpomFile={parent}", cwd=work)
    _mvn("-f", str(PROJECT / "config-definitions.pom.xml"), "install")  # config-definitions 3.0.9
    _mvn("dependency:copy",
         f"-Dartifact=io.apicurio:apicurio-registry-config-index-deployment:{CONFIG_INDEX_SERVED}",
         f"-DoutputDirectory={work}", cwd=work)
    jar = work / f"apicurio-registry-config-index-deployment-{CONFIG_INDEX_SERVED}.jar"
    _mvn("install:install-file", f"-Dfile={jar}",
         f"-DpomFile={PROJECT / 'config-index-deployment.pom'}", cwd=work)


def ensure_runner() -> Path:
    """Build the registry application once (a few minutes on a fresh machine); skipped when built."""
    if RUNNER.exists():
        return RUNNER
    if shutil.which("mvn") is None:
        raise RegistryBuildError("Maven (mvn) is needed once to build the schema registry")
    say(f"building Apicurio Registry {APICURIO} from Maven Central into {APP} (first run only)...")
    started = time.monotonic()
    target = PROJECT / "target"
    shutil.rmtree(target, ignore_errors=True)
    _install_stand_ins(target / "stand-ins")
    _mvn("package")
    built = target / "quarkus-app"
    if not (built / "quarkus-run.jar").exists():
        raise RegistryBuildError(f"the build left no {built / 'quarkus-run.jar'}")
    shutil.rmtree(APP, ignore_errors=True)
    built.rename(APP)  # last, so an interrupted build never looks like a complete one
    shutil.rmtree(target, ignore_errors=True)
    say(f"built the schema registry in {time.monotonic() - started:.0f}s")
    return RUNNER


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
    return pid if _marker(settings).encode() in cmdline.split(b"\0") else None


def _marker(settings: Settings) -> str:
    return f"-Drcm.registry.home={home(settings)}"


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/subjects", timeout=2):
            return True
    except OSError:
        return False


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    return shutil.which("java") or "java"


def _database(settings: Settings) -> str:
    return f"jdbc:h2:file:{home(settings) / 'apicurio'}"


def _launch(settings: Settings) -> subprocess.Popen:
    home(settings).mkdir(parents=True, exist_ok=True)
    os.chmod(home(settings), 0o700)  # the database file: nothing but this user reads it
    argv = [_java(), HEAP, "-XX:+UseSerialGC", _marker(settings),
            "-Dquarkus.http.host=127.0.0.1", f"-Dquarkus.http.port={settings.registry_port}",
            "-Dapicurio.storage.kind=sql", "-Dapicurio.storage.sql.kind=h2",
            f"-Dapicurio.datasource.url={_database(settings)}",
            "-Dapicurio.datasource.jdbc.initial-size=1", "-Dapicurio.datasource.jdbc.min-size=1",
            "-Dapicurio.datasource.jdbc.max-size=10",
            "-Dquarkus.log.level=WARN", "-Dquarkus.http.access-log.enabled=false",
            "-jar", str(RUNNER)]
    with open(home(settings) / "registry.log", "ab") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True, cwd=home(settings))
    pid_file(settings).write_text(f"{proc.pid}\n")
    return proc


def _wait(settings: Settings, proc: subprocess.Popen | None, pid: int, timeout_s: float) -> None:
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
        time.sleep(0.2)


def _seed_ids(settings: Settings) -> None:
    """Start a new registry's ids at FIRST_ID. Apicurio's own start at 1, where the fixed offline
    ids are: a record written offline would then be read as another schema. The id on the wire of
    its Confluent API is the content id (`apicurio.ccompat.legacy-id-mode.enabled` false), and on
    H2 it continues from the largest content id stored when the registry starts. So, while it is
    stopped (the H2 file is unlocked), one placeholder content row takes id FIRST_ID - 1; its hashes
    are no SHA-256, so no schema ever matches it. H2's own shell does it, from the application."""
    h2 = glob.glob(str(APP / "lib" / "main" / "com.h2database.h2-*.jar"))
    if not h2:
        raise RegistryBuildError(f"no H2 jar in {APP / 'lib' / 'main'}")
    sql = ("MERGE INTO content (contentId, canonicalHash, contentHash, contentType, content) "
           f"KEY (contentId) VALUES ({FIRST_ID - 1}, 'rcm-first-id', 'rcm-first-id', "
           "'application/json', X'7B7D')")  # MERGE: a seed cut short may run again
    done = subprocess.run([_java(), "-cp", h2[0], "org.h2.tools.Shell", "-url",
                           _database(settings), "-user", "sa", "-password", "sa", "-sql", sql],
                          check=False, capture_output=True, text=True, timeout=60)
    if done.returncode != 0 or "Exception" in done.stdout + done.stderr:
        raise RuntimeError(f"setting the registry's first id failed: {done.stdout}{done.stderr}")
    seeded_marker(settings).write_text(f"{FIRST_ID}\n")


def seeded_marker(settings: Settings) -> Path:
    return home(settings) / "ids-from"


def start(settings: Settings, timeout_s: float = 180) -> int:
    pid, proc = running_pid(settings), None
    if pid is None:
        ensure_runner()
        if not seeded_marker(settings).exists():
            # first start: Apicurio creates its tables, stops, then the ids are set
            proc = _launch(settings)
            _wait(settings, proc, proc.pid, timeout_s)
            registered = Registry(settings.registry_url).subjects()
            stop(settings)
            if registered:
                raise RuntimeError(f"{home(settings)} holds subjects registered before its ids "
                                   f"were set; remove it to start afresh")
            _seed_ids(settings)
        proc = _launch(settings)
        pid = proc.pid
    _wait(settings, proc, pid, timeout_s)
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
