"""The local PostgreSQL roles' passwords: generated once, kept under $RCM_HOME/secrets with mode 0600.

Clients never see a password in a DSN: the local DSNs name a libpq password file
(`?passfile=...`), so a DSN can be printed, logged or passed to a child process safely. The server
only ever receives SCRAM-SHA-256 verifiers (`ALTER ROLE ... PASSWORD 'SCRAM-SHA-256$...'`), never a
password, so not even a failed statement in the server log holds one.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

ROLE_PREFIX = "rcm_"
OWNER = "rcm"  # applies the migrations, owns every table (the bootstrap superuser of a local cluster)
SINK = "rcm_sink"  # writes the pipeline tables, cannot change their definition
CONSOLE = "rcm_console"  # reads the work queues (grants: migration 0024)
ANALYST = "rcm_analyst"  # reads the de-identified `analytics` schema only (migration 0025)
REPORT = "rcm_report"  # reads every pipeline table, writes nothing: rcm report, rcm demo (migration 0027)
ROLES = (OWNER, SINK, CONSOLE, ANALYST, REPORT)
SCRAM_ITERATIONS = 4096


def secrets_dir(home: Path) -> Path:
    return home / "secrets"


def passwords_file(home: Path) -> Path:
    return secrets_dir(home) / "postgres.json"


def passfile(home: Path) -> Path:
    return secrets_dir(home) / "pgpass"


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.replace(path.with_suffix(".tmp"), path)
    os.chmod(path, 0o600)


def passwords(home: Path) -> dict[str, str]:
    """Every role's password, generated on first use and kept from then on."""
    path = passwords_file(home)
    known = json.loads(path.read_text()) if path.exists() else {}
    missing = [role for role in ROLES if role not in known]
    if missing:
        # token_urlsafe: no ':' or '\\', which the password file would need escaped.
        known.update({role: secrets.token_urlsafe(24) for role in missing})
        _write_private(path, json.dumps(known, indent=1) + "\n")
    if not passfile(home).exists() or missing:
        lines = [f"{host}:*:*:{role}:{known[role]}" for role in ROLES for host in ("127.0.0.1", "localhost")]
        _write_private(passfile(home), "\n".join(lines) + "\n")
    return known


def scram_verifier(password: str, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS) -> str:
    """What PostgreSQL stores for a SCRAM-SHA-256 password (RFC 5802/7677), computed here."""
    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    b64 = base64.b64encode
    return (f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}"
            f"${b64(stored_key).decode()}:{b64(server_key).decode()}")


def local_dsn(home: Path, port: int, role: str = OWNER, database: str = "rcm") -> str:
    return f"postgresql://{role}@127.0.0.1:{port}/{database}?passfile={passfile(home)}"


def env_lines(settings) -> list[str]:
    """`export` lines for psql, a Kafka client and a registry-aware consumer (no password in them)."""
    import shlex

    values = {
        "RCM_KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap,
        "RCM_DATABASE_URL": settings.dsn,
        "RCM_SINK_DATABASE_URL": settings.role_dsn("sink"),
        "RCM_CONSOLE_DATABASE_URL": settings.role_dsn("console"),
        "RCM_ANALYST_DATABASE_URL": settings.role_dsn("analyst"),
        "RCM_REPORT_DATABASE_URL": settings.role_dsn("report"),
    }
    if "passfile=" in settings.dsn:
        values["PGPASSFILE"] = str(passfile(settings.home))
    if settings.registry_url:  # none with RCM_SCHEMA_REGISTRY_URL=none (the fixed ids)
        values["RCM_SCHEMA_REGISTRY_URL"] = settings.registry_url
    from infra.kafka_auth import env_values

    values.update(env_values(settings))  # the analytics principal's; each service uses its own
    return [f"export {name}={shlex.quote(value)}" for name, value in values.items()]


def cmd_env(args) -> int:
    from infra.settings import load

    settings = load()
    if settings.manages_postgres:
        passwords(settings.home)
    if settings.manages_kafka:
        from infra.kafka_auth import ensure_passwords

        ensure_passwords(settings)
    print("\n".join(env_lines(settings)))
    return 0
