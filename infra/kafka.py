"""A local Apache Kafka (KRaft) on 127.0.0.1, run straight from Maven Central jars: one broker by
default, or a cluster of `RCM_KAFKA_BROKERS` (`rcm up --brokers 3`).

`ensure_jars` resolves org.apache.kafka:kafka_2.13 (infra/pom.xml) into infra/jars once; `start`
formats each node's log directory once and runs `kafka.Kafka` in its own session with a pid file
under $RCM_HOME/kafka (node 1) or $RCM_HOME/kafka-<n> (node n); `stop` signals those pids and
nothing else. Node n (from 1) listens on RCM_KAFKA_PORT + 2(n-1), its controller on the next port.
In a cluster every node is broker and controller (a static three-voter quorum), internal topics
are replicated three times, and `min.insync.replicas` is 2.
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

from infra.credentials import _write_private
from infra.kafka_auth import ensure_passwords
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


def home(settings: Settings, node: int = 1) -> Path:
    return settings.home / ("kafka" if node == 1 else f"kafka-{node}")


def pid_file(settings: Settings, node: int = 1) -> Path:
    return home(settings, node) / "kafka.pid"


def log_file(settings: Settings, node: int = 1) -> Path:
    return home(settings, node) / "kafka.log"


def nodes(settings: Settings) -> range:
    return range(1, settings.brokers + 1)


def port(settings: Settings, node: int = 1) -> int:
    return settings.kafka_port + 2 * (node - 1)


def server_properties(settings: Settings, node: int = 1, secure: bool = True) -> str:
    p, n = port(settings, node), settings.brokers
    rf, isr = min(n, 3), 2 if n >= 3 else 1
    quorum = (f"controller.quorum.bootstrap.servers=127.0.0.1:{p + 1}" if n == 1 else
              "controller.quorum.voters=" + ",".join(
                  f"{i}@127.0.0.1:{port(settings, i) + 1}" for i in nodes(settings)))
    return "\n".join([
        "process.roles=broker,controller",
        f"node.id={node}",
        f"listeners=BROKER://127.0.0.1:{p},CONTROLLER://127.0.0.1:{p + 1}",
        f"advertised.listeners=BROKER://127.0.0.1:{p}",
        "inter.broker.listener.name=BROKER",
        "controller.listener.names=CONTROLLER",
        *(security_properties(settings, node) if secure else
          ["listener.security.protocol.map=BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT"]),
        quorum,
        f"log.dirs={home(settings, node) / 'data'}",
        "num.partitions=4",
        "auto.create.topics.enable=false",
        f"offsets.topic.replication.factor={rf}",
        f"share.coordinator.state.topic.replication.factor={rf}",
        f"share.coordinator.state.topic.min.isr={isr}",
        f"transaction.state.log.replication.factor={rf}",
        f"transaction.state.log.min.isr={isr}",
        f"min.insync.replicas={isr}",
        f"default.replication.factor={rf}",
        "group.initial.rebalance.delay.ms=0",
        "num.network.threads=2",
        "num.io.threads=4",
        "",
    ])


def security_properties(settings: Settings, node: int = 1) -> list[str]:
    """SASL on both listeners, an authorizer that denies what no ACL allows.

    Clients and brokers (inter-broker: the admin principal) authenticate on BROKER with
    SCRAM-SHA-512, whose credentials live in the cluster metadata: the admin's is written by
    `kafka-storage format --add-scram`, the services' by `rcm up` (infra.services). The CONTROLLER
    listener cannot use SCRAM (a controller needs the credential before it has read the metadata
    that holds it), so it uses SASL PLAIN with one user, `rcm-controller`, defined here; it stays
    on 127.0.0.1 and is not PLAINTEXT, so no local process reaches the controllers as a super
    user. TLS (SASL_SSL) on BROKER when RCM_KAFKA_SSL_CERTFILE and _KEYFILE name a certificate."""
    from infra.kafka_acls import ADMIN, principal
    from infra.kafka_auth import CONTROLLER

    admin_user, admin_pw = credentials_local(settings, ADMIN)
    ctl_user, ctl_pw = credentials_local(settings, CONTROLLER)
    tls = bool(settings.kafka_ssl_certfile and settings.kafka_ssl_keyfile)
    lines = [
        (f"listener.security.protocol.map=BROKER:{'SASL_SSL' if tls else 'SASL_PLAINTEXT'},"
         "CONTROLLER:SASL_PLAINTEXT"),
        "sasl.enabled.mechanisms=SCRAM-SHA-512",
        "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512",
        "listener.name.broker.sasl.enabled.mechanisms=SCRAM-SHA-512",
        ("listener.name.broker.scram-sha-512.sasl.jaas.config="
         "org.apache.kafka.common.security.scram.ScramLoginModule required "
         f'username="{admin_user}" password="{admin_pw}";'),
        "sasl.mechanism.controller.protocol=PLAIN",
        "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
        ("listener.name.controller.plain.sasl.jaas.config="
         "org.apache.kafka.common.security.plain.PlainLoginModule required "
         f'username="{ctl_user}" password="{ctl_pw}" user_{ctl_user}="{ctl_pw}";'),
        "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found=false",
        f"super.users=User:{principal(ADMIN)};User:{ctl_user}",
    ]
    if tls:
        lines += ["ssl.keystore.type=PEM", f"ssl.keystore.location={home(settings, node) / 'broker.pem'}"]
        if settings.kafka_ssl_cafile:
            lines += ["ssl.truststore.type=PEM", f"ssl.truststore.location={settings.kafka_ssl_cafile}"]
    return lines


def credentials_local(settings: Settings, service: str) -> tuple[str, str]:
    """The local broker's own principals (never RCM_KAFKA_SASL_USERNAME: that names a client)."""
    from infra.kafka_acls import principal
    from infra.kafka_auth import password

    return principal(service), password(settings, service)


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


def running_pid(settings: Settings, node: int = 1) -> int | None:
    try:
        pid = int(pid_file(settings, node).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if exists(pid) and _is_broker(pid) else None


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _log_tail(settings: Settings, lines: int = 40, node: int = 1) -> str:
    try:
        return "\n".join(log_file(settings, node).read_text(errors="replace").splitlines()[-lines:])
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


def _new_cluster_id() -> str:
    cluster_id = "-"
    while cluster_id.startswith("-"):  # StorageTool would read a leading '-' as an option
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    return cluster_id


def _cluster_id(settings: Settings) -> str:
    """One id for every node of the local cluster, kept next to node 1's data."""
    path = home(settings) / "cluster.id"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_new_cluster_id() + "\n")
    return path.read_text().strip()


def secured_marker(settings: Settings, node: int = 1) -> Path:
    return home(settings, node) / "data" / "rcm-sasl"


def formatted_without_auth(settings: Settings) -> bool:
    """Data of a broker formatted before authentication was on (it has no admin credential)."""
    return any((home(settings, n) / "data" / "meta.properties").exists()
               and not secured_marker(settings, n).exists() for n in nodes(settings))


def _format_storage(settings: Settings, props: Path, log4j: Path, node: int = 1,
                    secure: bool = True) -> None:
    from infra.kafka_acls import ADMIN

    if (home(settings, node) / "data" / "meta.properties").exists():
        if secure and not secured_marker(settings, node).exists():
            raise KafkaError(f"{home(settings, node)} holds a broker formatted before Kafka "
                             "authentication was on; `rcm down --purge` and `rcm up` again")
        return
    admin_user, admin_pw = credentials_local(settings, ADMIN)
    if settings.brokers == 1:  # a dynamic quorum of one
        cluster_id, mode = _new_cluster_id(), ["--standalone"]
    else:  # the static voters of server.properties
        cluster_id, mode = _cluster_id(settings), []
    cmd = [_java(), f"-Dlog4j2.configurationFile={log4j}", "-cp", f"{JARS}/*",
           "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(props), *mode,
           # the inter-broker (admin) SCRAM credential, in the metadata before any broker starts
           *(["--add-scram", f"SCRAM-SHA-512=[name={admin_user},password={admin_pw}]"]
             if secure else [])]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        out = f"{done.stdout}{done.stderr}".replace(admin_pw, "***")
        raise KafkaError(f"formatting the KRaft log dir failed:\n{out}")
    secured_marker(settings, node).write_text("SCRAM-SHA-512\n")


def _check_size(settings: Settings) -> None:
    """Refuse to start a cluster of another size over existing data (`rcm down --purge` first)."""
    marker = home(settings) / "brokers"
    if (home(settings) / "data" / "meta.properties").exists():
        had = int(marker.read_text()) if marker.exists() else 1
        if had != settings.brokers:
            raise KafkaError(f"$RCM_HOME/kafka holds a {had}-broker cluster; `rcm down --purge` "
                             f"before starting {settings.brokers}")
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(f"{settings.brokers}\n")


def start(settings: Settings, timeout_s: float = 120, secure: bool = True) -> int:
    """Start every node that is not running yet; return node 1's pid once all serve requests.
    `secure=False` only for `rcm bench`'s unauthenticated baseline broker."""
    _check_size(settings)
    pids = {node: start_node(settings, node, wait=False, secure=secure) for node in nodes(settings)}
    for node, pid in pids.items():
        wait_ready(settings, pid, timeout_s, node)
    return pids[1]


def start_node(settings: Settings, node: int = 1, timeout_s: float = 120, wait: bool = True,
               secure: bool = True) -> int:
    """Start one node unless ours is already running; with `wait`, return once it serves."""
    pid = running_pid(settings, node)
    if pid is not None:
        if wait:
            wait_ready(settings, pid, timeout_s, node)
        return pid
    if _port_open(port(settings, node)):
        raise KafkaError(f"port {port(settings, node)} is taken by another process; "
                         "set RCM_KAFKA_PORT or RCM_KAFKA_BOOTSTRAP_SERVERS")
    ensure_jars()
    root = home(settings, node)
    root.mkdir(parents=True, exist_ok=True)
    props, log4j = root / "server.properties", root / "log4j2.xml"
    ensure_passwords(settings)
    _write_private(props, server_properties(settings, node, secure))  # the brokers' passwords
    if settings.kafka_ssl_certfile and settings.kafka_ssl_keyfile:  # a PEM keystore: key + chain
        _write_private(root / "broker.pem", Path(settings.kafka_ssl_keyfile).read_text()
                       + Path(settings.kafka_ssl_certfile).read_text())
    log4j.write_text(LOG4J2)
    _format_storage(settings, props, log4j, node, secure)
    cmd = [_java(), f"-Xmx{settings.kafka_heap}", "-XX:+UseG1GC", "-Djava.awt.headless=true",
           # Kafka stops itself on SIGTERM; log4j's own hook would only complain during that stop.
           "-Dlog4j2.shutdownHookEnabled=false",
           f"-Dlog4j2.configurationFile={log4j}", f"-Dkafka.logs.dir={root}",
           "-cp", f"{JARS}/*", "kafka.Kafka", str(props)]
    say(f"starting broker {node} on 127.0.0.1:{port(settings, node)} "
        f"(log: {log_file(settings, node)})")
    with open(log_file(settings, node), "ab") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True, cwd=root)
    pid_file(settings, node).write_text(f"{proc.pid}\n")
    if wait:
        wait_ready(settings, proc.pid, timeout_s, node)
    return proc.pid


def wait_ready(settings: Settings, pid: int, timeout_s: float, node: int = 1) -> None:
    from kafka.admin import KafkaAdminClient

    started = time.monotonic()
    deadline = started + timeout_s
    quiet = logging.getLogger("kafka")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # refused connections while the JVM boots are expected
    p = port(settings, node)
    try:
        while time.monotonic() < deadline:
            if not exists(pid):
                raise KafkaError(f"Kafka broker {node} (pid {pid}) exited while starting; log "
                                 f"tail:\n{_log_tail(settings, node=node)}")
            if _port_open(p) and _answers(settings, f"127.0.0.1:{p}", KafkaAdminClient):
                return
            time.sleep(0.5)
    finally:
        quiet.setLevel(level)
    raise KafkaError(f"Kafka broker {node} (pid {pid}) was not ready after {timeout_s:.0f}s; log "
                     f"tail:\n{_log_tail(settings, node=node)}")


def _answers(settings: Settings, bootstrap: str, client) -> bool:
    from infra.kafka_acls import ADMIN
    from infra.kafka_auth import client_options

    options = client_options(ADMIN, bootstrap, settings=settings)
    try:
        admin = client(**options, request_timeout_ms=5000, client_id="rcm-infra")
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
    """Stop our brokers (by pid file). Returns True if any was running. Every node is signalled
    before any is waited for: the last node of a cluster stopped one by one would wait for a
    controller quorum that is gone."""
    signalled = [(node, pid) for node in nodes(settings)
                 if (pid := _signal(settings, node, signal.SIGTERM)) is not None]
    for node, pid in signalled:
        _wait_gone(settings, node, pid, timeout_s)
    return bool(signalled)


def stop_node(settings: Settings, node: int = 1, timeout_s: float = 30,
              sig: int = signal.SIGTERM) -> bool:
    """Stop one node (SIGKILL with `sig`: the crash a test inflicts). True if it was running."""
    pid = _signal(settings, node, sig)
    if pid is not None:
        _wait_gone(settings, node, pid, timeout_s)
    return pid is not None


def _signal(settings: Settings, node: int, sig: int) -> int | None:
    pid = running_pid(settings, node)
    if pid is None:
        pid_file(settings, node).unlink(missing_ok=True)
        return None
    say(f"stopping broker {node} (pid {pid})")
    os.kill(pid, sig)
    return pid


def _wait_gone(settings: Settings, node: int, pid: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and exists(pid):
        _reap(pid)
        time.sleep(0.2)
    if exists(pid):
        say(f"broker {node} did not stop in {timeout_s:.0f}s; killing it")
        os.kill(pid, signal.SIGKILL)
        while exists(pid):
            _reap(pid)
            time.sleep(0.1)
    pid_file(settings, node).unlink(missing_ok=True)


def _reap(pid: int) -> None:
    # When this process started the broker it is our child: collect it so it does not linger as a zombie.
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
