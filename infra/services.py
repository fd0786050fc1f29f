"""`rcm up | down | env`: the local Kafka broker and PostgreSQL, the registry topics, the migrations.

A service named by RCM_KAFKA_BOOTSTRAP_SERVERS or RCM_DATABASE_URL is used as it is and never
started or stopped here.
"""
from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import time
from dataclasses import replace
from pathlib import Path

from infra import kafka, kafka_acls, kafka_auth, postgres
from infra import registry as schema_registry
from infra.kafka_acls import ADMIN, principal
from infra.kafka_auth import client_options
from infra.messages import sayer
from infra.settings import Settings, load
from schemas import topics as registry

say = sayer("rcm")


def admin_client(bootstrap: str | None = None, *, settings: Settings):
    """The admin principal's client for `bootstrap` (default: the settings' brokers)."""
    from kafka.admin import KafkaAdminClient

    return KafkaAdminClient(**client_options(ADMIN, bootstrap, settings=settings), client_id="rcm-infra",
                            request_timeout_ms=30000)


def secure_kafka(settings: Settings, any_group: bool = False) -> int:
    """On the local broker: give every service principal its SCRAM credential (again: the password
    files are the truth) and create the ACLs that are missing; return how many were created. An
    existing cluster (RCM_KAFKA_SASL_USERNAME) is left to its operators (docs/security.md)."""
    if settings.kafka_sasl_username or not kafka_auth.local_secrets(settings):
        return 0
    from kafka.admin import ScramMechanism, UserScramCredentialUpsertion

    admin = admin_client(settings=settings)
    try:
        upserts = [UserScramCredentialUpsertion(principal(s), ScramMechanism.SCRAM_SHA_512,
                                                kafka_auth.password(settings, s), iterations=4096)
                   for s in kafka_acls.SERVICES]
        failed = {user: err for user, err in admin.alter_user_scram_credentials(upserts).items() if err}
        if failed:
            raise RuntimeError(f"Kafka refused SCRAM credentials for {sorted(failed)}: "
                               f"{sorted(set(map(str, failed.values())))}")
        return kafka_acls.apply(admin, settings.app_id, settings.sink_group, any_group)
    finally:
        admin.close()


def create_topics(bootstrap: str | None = None, topics=registry.ALL, timeout_s: float = 60, *,
                  settings: Settings) -> list[str]:
    """Create the registry topics that do not exist yet on `bootstrap` (default: the settings'
    brokers); return the names created."""
    admin = admin_client(bootstrap, settings=settings)
    try:
        deadline = time.monotonic() + timeout_s
        rf, durability = replication(admin)
        created: list[str] = []
        while missing := [t for t in topics if t.name not in set(admin.list_topics())]:
            if time.monotonic() > deadline:
                raise RuntimeError(f"could not create topics {[t.name for t in missing]}")
            spec = {t.name: {"num_partitions": t.partitions, "replication_factor": rf,
                             "configs": {**t.config(), **durability}} for t in missing}
            # Errors are judged by the next listing: "already exists" from a concurrent `up` is fine,
            # and a just-deleted topic may refuse creation for a moment.
            admin.create_topics(spec, raise_errors=False)
            created += [t.name for t in missing if t.name not in created]
            time.sleep(0.1)
        wait_for_topics(admin, [t.name for t in topics], timeout_s)
        return created
    finally:
        admin.close()


def replication(admin) -> tuple[int, dict[str, str]]:
    """Replication factor and configs for new topics on the cluster `admin` talks to: three
    replicas and min.insync.replicas=2 once it has three brokers (with acks=all everywhere, a
    write then survives the loss of any one broker), else one replica per broker available."""
    brokers = len(admin.describe_cluster()["brokers"])
    rf = min(brokers, 3)
    return rf, ({"min.insync.replicas": "2"} if rf == 3 else {})


def wait_for_topics(admin, names: list[str], timeout_s: float = 60) -> None:
    """Block until every topic has a leader for every partition."""
    admin.wait_for_topics(list(names), timeout_ms=int(timeout_s * 1000))


def recreate_topics(bootstrap: str | None = None, topics=registry.ALL, timeout_s: float = 60, *,
                    settings: Settings) -> None:
    """Delete every registry topic (data and committed offsets with it) on `bootstrap` (default:
    the settings' brokers), then create them afresh."""
    names = [t.name for t in topics]
    admin = admin_client(bootstrap, settings=settings)
    try:
        present = [n for n in names if n in set(admin.list_topics())]
        if present:
            admin.delete_topics(present, raise_errors=False)
        deadline = time.monotonic() + timeout_s
        while set(names) & set(admin.list_topics()):
            if time.monotonic() > deadline:
                raise RuntimeError(f"topics not deleted after {timeout_s:.0f}s: "
                                   f"{sorted(set(names) & set(admin.list_topics()))}")
            time.sleep(0.1)
    finally:
        admin.close()
    create_topics(bootstrap, topics, timeout_s, settings=settings)


def apply_migrations(dsn: str) -> list[str]:
    from sinks.postgres.migrate import apply_migrations as apply

    return apply(dsn)


def up(settings: Settings) -> tuple[str, str]:
    """Start what is ours to start, create the topics, migrate the database. Idempotent."""
    started = time.monotonic()
    if settings.manages_kafka:
        kafka.start(settings)
    if settings.manages_postgres:
        postgres.start(settings)
    created = create_topics(settings=settings)
    if created:
        say(f"created topics: {', '.join(created)}")
    if acls := secure_kafka(settings):
        say(f"created {acls} Kafka ACLs for {len(kafka_acls.SERVICES)} service principals")
    applied = apply_migrations(settings.dsn)
    if applied:
        say(f"applied migrations: {', '.join(applied)}")
    start_registry(settings)
    say(f"up in {time.monotonic() - started:.1f}s: kafka {settings.bootstrap}, "
        f"postgres {redact(settings.dsn)}")
    return settings.bootstrap, settings.dsn


def start_registry(settings: Settings) -> None:
    """Start the local schema registry unless one is configured (RCM_SCHEMA_REGISTRY_URL), then
    register every topic's schema there; nothing with RCM_SCHEMA_REGISTRY_URL=none (the fixed ids)."""
    if not settings.registry_url:
        return
    if settings.manages_registry:
        schema_registry.start(settings)
    schema_registry.register_all(settings.registry_url)


def down(settings: Settings, purge: bool = False) -> None:
    stop_left_running(settings.home)
    if settings.manages_registry:
        schema_registry.stop(settings)
    if settings.manages_kafka:
        kafka.stop(settings)
        if purge:
            for node in kafka.nodes(settings):
                shutil.rmtree(kafka.home(settings, node), ignore_errors=True)
    if settings.manages_postgres:
        postgres.stop(settings)
        if purge:
            shutil.rmtree(postgres.home(settings), ignore_errors=True)


def stop_left_running(home: Path, timeout_s: float = 30.0) -> list[str]:
    """SIGTERM each service a command left running (pipeline.Service.leave_running: `rcm demo`'s
    processor, sink and console) by its recorded pid, if that pid is still an `rcm` process, and
    wait for it to exit; returns the names stopped."""
    stopped = []
    for pidfile in sorted((home / "run").glob("*.pid")):
        try:
            pid = int(pidfile.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            cmdline = b""
        if b"infra.cli" in cmdline:  # not a pid reused by something else since
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout_s
            while _running(pid) and time.monotonic() < deadline:
                time.sleep(0.2)
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
            stopped.append(pidfile.stem)
        pidfile.unlink(missing_ok=True)
    if stopped:
        say(f"stopped {', '.join(stopped)}")
    return stopped


def _running(pid: int) -> bool:
    """The process exists and has not exited (a zombie waits only for its parent to reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def redact(dsn: str) -> str:
    """Hide a password in a DSN before it reaches a terminal or log."""
    if "://" not in dsn or "@" not in dsn:
        return dsn
    scheme, rest = dsn.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}{':***' if ':' in creds else ''}@{host}"


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    if name == "down":
        parser.add_argument("--purge", action="store_true",
                            help="also delete the local Kafka and PostgreSQL data under $RCM_HOME")
    if name == "up":
        parser.add_argument("--brokers", type=int, default=0,
                            help="run a local Kafka cluster of N brokers (3: replication factor 3, "
                                 "min.insync.replicas 2); default: as last started, else 1")


def _quietly(run) -> int:
    logging.basicConfig(level=logging.ERROR)
    try:
        run()
    except (kafka.KafkaError, postgres.PostgresError, RuntimeError) as failure:
        say(f"error: {failure}")
        return 1
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    settings = load()
    if getattr(args, "brokers", 0):
        settings = replace(settings, kafka_brokers=args.brokers)
    return _quietly(lambda: up(settings))


def cmd_down(args: argparse.Namespace) -> int:
    return _quietly(lambda: down(load(), purge=getattr(args, "purge", False)))
