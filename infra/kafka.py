"""A local single-node Apache Kafka broker (KRaft), run straight from Maven Central jars.

`ensure_jars` resolves org.apache.kafka:kafka_2.13 (infra/pom.xml) into infra/jars once; `start`
formats the log directory once and runs `kafka.Kafka` in its own session with a pid file under
$RCM_HOME/kafka; `stop` signals that pid and nothing else.
"""
from __future__ import annotations

import base64
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

from infra.messages import sayer
from infra.settings import Settings

INFRA = Path(__file__).resolve().parent
POM = INFRA / "pom.xml"
JARS = INFRA / "jars"

LOG4J2 = """<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="warn">
  <Appenders>
    <Console name="stdout" target="SYSTEM_OUT">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Root level="WARN"><AppenderRef ref="stdout"/></Root>
    <!-- keep the one line that says the server is up -->
    <Logger name="kafka.server.KafkaRaftServer" level="INFO"/>
  </Loggers>
</Configuration>
"""


class KafkaError(RuntimeError):
    pass


say = sayer("kafka")


def ensure_jars() -> Path:
    if any(JARS.glob("kafka_2.13-*.jar")):
        return JARS
    if shutil.which("mvn") is None:
        raise KafkaError("Maven (mvn) is needed once to fetch the Kafka jars from Maven Central")
    partial = INFRA / "jars.partial"
    shutil.rmtree(partial, ignore_errors=True)
    say(f"fetching Apache Kafka jars from Maven Central into {JARS} (first run only)...")
    started = time.monotonic()
    cmd = ["mvn", "-q", "-B", "-f", str(POM), "dependency:copy-dependencies",
           "-DincludeScope=runtime", f"-DoutputDirectory={partial}"]
    done = subprocess.run(cmd, check=False, cwd=INFRA, capture_output=True, text=True)
    if done.returncode != 0 or not any(partial.glob("kafka_2.13-*.jar")):
        raise KafkaError(f"fetching Kafka jars failed ({' '.join(cmd)}):\n"
                         f"{done.stdout[-3000:]}{done.stderr[-3000:]}")
    # Rename last so an interrupted fetch never looks like a complete one.
    partial.rename(JARS)
    say(f"fetched {len(list(JARS.glob('*.jar')))} jars in {time.monotonic() - started:.0f}s")
    return JARS


def home(settings: Settings) -> Path:
    return settings.home / "kafka"


def pid_file(settings: Settings) -> Path:
    return home(settings) / "kafka.pid"


def log_file(settings: Settings) -> Path:
    return home(settings) / "kafka.log"


def server_properties(settings: Settings) -> str:
    port = settings.kafka_port
    return "\n".join([
        "process.roles=broker,controller",
        "node.id=1",
        f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{port + 1}",
        f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name=PLAINTEXT",
        "controller.listener.names=CONTROLLER",
        f"controller.quorum.bootstrap.servers=127.0.0.1:{port + 1}",
        f"log.dirs={home(settings) / 'data'}",
        "num.partitions=4",
        "auto.create.topics.enable=false",
        "offsets.topic.replication.factor=1",
        "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "min.insync.replicas=1",
        "default.replication.factor=1",
        "group.initial.rebalance.delay.ms=0",
        "num.network.threads=2",
        "num.io.threads=4",
        "",
    ])


def exists(pid: int) -> bool:
    """True while the process has any live thread (a JVM's main thread exits before its shutdown hooks)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return not ("State:\tZ" in status and "Threads:\t1\n" in status)


def _is_broker(pid: int) -> bool:
    try:  # a reused pid belongs to some other program: not our broker
        return b"kafka.Kafka" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def running_pid(settings: Settings) -> int | None:
    try:
        pid = int(pid_file(settings).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if exists(pid) and _is_broker(pid) else None


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _log_tail(settings: Settings, lines: int = 40) -> str:
    try:
        return "\n".join(log_file(settings).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise KafkaError("java (17 or newer) is needed to run the Kafka broker")
    return java


def _format_storage(settings: Settings, props: Path, log4j: Path) -> None:
    if (home(settings) / "data" / "meta.properties").exists():
        return
    cluster_id = "-"
    while cluster_id.startswith("-"):  # StorageTool would read a leading '-' as an option
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    cmd = [_java(), f"-Dlog4j2.configurationFile={log4j}", "-cp", f"{JARS}/*",
           "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(props), "--standalone"]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        raise KafkaError(f"formatting the KRaft log dir failed:\n{done.stdout}{done.stderr}")


def start(settings: Settings, timeout_s: float = 120) -> int:
    """Start the broker unless ours is already running; return its pid once it serves requests."""
    pid = running_pid(settings)
    if pid is not None:
        wait_ready(settings, pid, timeout_s)
        return pid
    if _port_open(settings.kafka_port):
        raise KafkaError(f"port {settings.kafka_port} is taken by another process; "
                         "set RCM_KAFKA_PORT or RCM_KAFKA_BOOTSTRAP_SERVERS")
    ensure_jars()
    root = home(settings)
    root.mkdir(parents=True, exist_ok=True)
    props, log4j = root / "server.properties", root / "log4j2.xml"
    props.write_text(server_properties(settings))
    log4j.write_text(LOG4J2)
    _format_storage(settings, props, log4j)
    cmd = [_java(), f"-Xmx{settings.kafka_heap}", "-XX:+UseG1GC", "-Djava.awt.headless=true",
           # Kafka stops itself on SIGTERM; log4j's own hook would only complain during that stop.
           "-Dlog4j2.shutdownHookEnabled=false",
           f"-Dlog4j2.configurationFile={log4j}", f"-Dkafka.logs.dir={root}",
           "-cp", f"{JARS}/*", "kafka.Kafka", str(props)]
    say(f"starting broker on 127.0.0.1:{settings.kafka_port} (log: {log_file(settings)})")
    with open(log_file(settings), "ab") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True, cwd=root)
    pid_file(settings).write_text(f"{proc.pid}\n")
    wait_ready(settings, proc.pid, timeout_s)
    return proc.pid


def wait_ready(settings: Settings, pid: int, timeout_s: float) -> None:
    from kafka.admin import KafkaAdminClient

    started = time.monotonic()
    deadline = started + timeout_s
    quiet = logging.getLogger("kafka")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # refused connections while the JVM boots are expected
    try:
        while time.monotonic() < deadline:
            if not exists(pid):
                raise KafkaError(f"the Kafka broker (pid {pid}) exited while starting; log tail:\n"
                                 f"{_log_tail(settings)}")
            if _port_open(settings.kafka_port) and _answers(settings.bootstrap, KafkaAdminClient):
                return
            time.sleep(0.5)
    finally:
        quiet.setLevel(level)
    raise KafkaError(f"the Kafka broker (pid {pid}) was not ready after {timeout_s:.0f}s; log tail:\n"
                     f"{_log_tail(settings)}")


def _answers(bootstrap: str, client) -> bool:
    try:
        admin = client(bootstrap_servers=bootstrap, request_timeout_ms=5000, client_id="rcm-infra")
    except Exception:  # noqa: BLE001 - while the broker boots any failure means "not yet"
        return False
    try:
        admin.list_topics()
        return True
    except Exception:  # noqa: BLE001
        return False
    finally:
        admin.close()


def stop(settings: Settings, timeout_s: float = 30) -> bool:
    """Stop our broker (by pid file). Returns True if one was running."""
    pid = running_pid(settings)
    if pid is None:
        pid_file(settings).unlink(missing_ok=True)
        return False
    say(f"stopping broker (pid {pid})")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and exists(pid):
        _reap(pid)
        time.sleep(0.2)
    if exists(pid):
        say(f"broker did not stop in {timeout_s:.0f}s; killing it")
        os.kill(pid, signal.SIGKILL)
        while exists(pid):
            _reap(pid)
            time.sleep(0.1)
    pid_file(settings).unlink(missing_ok=True)
    return True


def _reap(pid: int) -> None:
    # When this process started the broker it is our child: collect it so it does not linger as a zombie.
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
