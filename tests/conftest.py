"""Session services for the integration and end-to-end layers.

`services` starts a Kafka broker and PostgreSQL under RCM_HOME=.rcm/test on test ports (29092,
25432; RCM_TEST_KAFKA_PORT / RCM_TEST_POSTGRES_PORT move them), unless RCM_KAFKA_BOOTSTRAP_SERVERS /
RCM_DATABASE_URL already point at servers. It stops only what it started, by pid. While it runs,
RCM_KAFKA_BOOTSTRAP_SERVERS and RCM_DATABASE_URL name the servers, so subprocesses (`rcm sink`,
`rcm process`) find them. A fixture that cannot provide its service fails; it never skips.
"""
from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENV_KEYS = ("RCM_HOME", "RCM_KAFKA_PORT", "RCM_POSTGRES_PORT", "RCM_SCHEMA_REGISTRY_PORT",
            "RCM_KAFKA_BOOTSTRAP_SERVERS", "RCM_DATABASE_URL", "RCM_KAFKA_SECRETS")


LAYERS = ("unit", "stream", "integration", "e2e", "console")  # the folders under tests/, one marker each
SERVICE_FIXTURES = {"services", "kafka_bootstrap", "pg_admin_dsn", "database_url", "fresh_topics"}


def pytest_collection_modifyitems(config, items) -> None:
    """Mark each test with its folder's layer, so `-m` and the folders agree; a unit or stream test
    that asks for a service is an error (make test-unit runs with none)."""
    for item in items:
        layer = Path(str(item.fspath)).relative_to(ROOT / "tests").parts[0]
        if layer not in LAYERS:
            raise pytest.UsageError(f"{item.nodeid}: tests live in tests/{{{','.join(LAYERS)}}}/")
        item.add_marker(getattr(pytest.mark, layer))
        wanted = SERVICE_FIXTURES & set(getattr(item, "fixturenames", ()))
        if layer in ("unit", "stream") and wanted:
            raise pytest.UsageError(f"{item.nodeid} is a {layer} test but uses {sorted(wanted)}:"
                                    " move it to tests/integration or tests/e2e")


def _no_skip(report) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"tests never skip; this one did: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A test never skips (pytest.skip, skipif, importorskip): a skip is reported as a failure,
    so nothing outside the tests (an environment variable, a missing package) can hide one."""
    _no_skip((yield).get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """... nor a whole module (pytest.skip(allow_module_level=True), a module-level importorskip)."""
    _no_skip((yield).get_result())


@dataclass(frozen=True)
class Services:
    bootstrap: str
    admin_dsn: str  # the `rcm` database; may create and drop databases
    settings: object  # infra.settings.Settings for RCM_HOME=.rcm/test
    kafka_pid: int | None  # started by this session (None: not ours)
    postgres_pid: int | None
    manages_kafka: bool
    manages_postgres: bool


@pytest.fixture(scope="session")
def services() -> Iterator[Services]:
    from infra import kafka, postgres, registry
    from infra import services as infra_services
    from infra.settings import load

    saved = {key: os.environ.get(key) for key in ENV_KEYS}
    os.environ["RCM_HOME"] = str(ROOT / ".rcm" / "test")
    os.environ["RCM_KAFKA_PORT"] = os.environ.get("RCM_TEST_KAFKA_PORT", "29092")
    os.environ["RCM_POSTGRES_PORT"] = os.environ.get("RCM_TEST_POSTGRES_PORT", "25432")
    os.environ["RCM_SCHEMA_REGISTRY_PORT"] = os.environ.get("RCM_TEST_REGISTRY_PORT", "28081")
    # The session's Kafka principals' passwords, found by every test and child process, whatever
    # RCM_HOME a test gives its own commands (tests/e2e: a tmp dir).
    os.environ.setdefault("RCM_KAFKA_SECRETS", str(ROOT / ".rcm" / "test" / "secrets" / "kafka"))
    settings = load()
    manages_kafka, manages_postgres = settings.manages_kafka, settings.manages_postgres
    registry_before = registry.running_pid(settings)
    started_kafka = started_postgres = None
    try:
        if manages_kafka:
            before = kafka.running_pid(settings)
            if before is None and kafka.formatted_without_auth(settings):
                # test data from before Kafka authentication: nothing worth keeping
                for node in kafka.nodes(settings):
                    shutil.rmtree(kafka.home(settings, node) / "data", ignore_errors=True)
            pid = kafka.start(settings)
            started_kafka = pid if before is None else None
        if manages_postgres:
            before = postgres.running_pid(settings)
            pid = postgres.start(settings)
            started_postgres = pid if before is None else None
        infra_services.create_topics(settings=settings)
        # every service principal and its ACLs; each test names its own consumer groups
        infra_services.secure_kafka(settings, any_group=True)
        _migrate_test_database(settings.dsn, manages_postgres)
        # the registry is the default: every child process (`rcm process`, `rcm sink`...) and every
        # test's own codec (_registry_ids) writes its ids
        infra_services.start_registry(settings)
        os.environ["RCM_KAFKA_BOOTSTRAP_SERVERS"] = settings.bootstrap
        os.environ["RCM_DATABASE_URL"] = settings.dsn
        yield Services(settings.bootstrap, settings.dsn, settings, started_kafka, started_postgres,
                       manages_kafka, manages_postgres)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        # A test may restart the session's broker (tests/e2e/test_broker_outage.py): it runs under
        # this session's RCM_HOME with a new pid, and is still this session's to stop.
        if started_kafka is not None and kafka.running_pid(settings) is not None:
            kafka.stop(settings)
        # ... and so may PostgreSQL (tests/e2e/test_postgres_outage.py, test_chaos.py).
        if started_postgres is not None and postgres.running_pid(settings) is not None:
            postgres.stop(settings)
        if registry_before is None:  # the session started it (start_registry above)
            registry.stop(settings)


@pytest.fixture(autouse=True)
def _registry_ids(request) -> Iterator[None]:
    """A test on the session's services encodes and decodes with the registry's ids, as every
    `rcm` command does by default (infra/cli.py); the others (unit, stream) with the fixed ids,
    also after a test that ran a command in-process (infra.cli.main)."""
    from schemas import codec

    if "services" in request.fixturenames:
        codec.use_registry(request.getfixturevalue("services").settings.registry_url)
    try:
        yield
    finally:
        codec.use_registry("")


def _migrate_test_database(dsn: str, ours: bool) -> None:
    """Migrate the session's database. The test server's own database (.rcm/test) starts again
    from empty when a migration applied to it has changed since (a migration still being written):
    it holds nothing but earlier test runs. A server the session does not manage is never reset."""
    import psycopg2

    from infra import services as infra_services
    from sinks.postgres.migrate import MigrationDrift

    try:
        infra_services.apply_migrations(dsn)
    except MigrationDrift:
        if not ours:
            raise
        conn = psycopg2.connect(dsn)
        try:
            with conn, conn.cursor() as cur:
                cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        finally:
            conn.close()
        infra_services.apply_migrations(dsn)


@pytest.fixture(scope="session")
def kafka_bootstrap(services: Services) -> str:
    return services.bootstrap


@pytest.fixture(scope="session")
def pg_admin_dsn(services: Services) -> str:
    return services.admin_dsn


def with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture
def database_url(pg_admin_dsn: str) -> Iterator[str]:
    """A fresh database with the migrations applied; dropped after the test."""
    import psycopg2

    from infra.services import apply_migrations

    def run(sql: str) -> None:
        # a connection per statement: a test may restart the server in between
        admin = psycopg2.connect(pg_admin_dsn)
        admin.autocommit = True
        try:
            with admin.cursor() as cur:
                cur.execute(sql)
        finally:
            admin.close()

    name = f"rcm_test_{uuid.uuid4().hex[:12]}"
    run(f'create database "{name}"')
    dsn = with_database(pg_admin_dsn, name)
    apply_migrations(dsn)
    yield dsn
    run(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def fresh_topics(services: Services) -> str:
    """Every registry topic deleted and created again: empty, with no committed offsets."""
    from infra.services import recreate_topics

    recreate_topics(settings=services.settings)
    return services.bootstrap
