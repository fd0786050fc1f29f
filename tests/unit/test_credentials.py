"""Which DSN each role gets, and that a password never reaches one (issue 12)."""
from __future__ import annotations

import shlex
import stat
from dataclasses import replace

from infra import credentials
from infra.settings import Settings


def test_the_local_roles_share_the_owners_dsn_with_their_own_user(tmp_path):
    settings = replace(Settings(), home=tmp_path, postgres_port=15999, database_url="")
    passfile = tmp_path / "secrets" / "pgpass"
    assert settings.dsn == f"postgresql://rcm@127.0.0.1:15999/rcm?passfile={passfile}"
    assert settings.sink_dsn == f"postgresql://rcm_sink@127.0.0.1:15999/rcm?passfile={passfile}"
    assert settings.role_dsn("analyst").startswith("postgresql://rcm_analyst@127.0.0.1:15999/")


def test_an_existing_deployments_single_dsn_keeps_working_for_every_role():
    settings = replace(Settings(), database_url="postgresql://app:secret@db.example:5432/billing")
    assert {settings.role_dsn(r) for r in ("sink", "console", "analyst")} == {settings.database_url}
    explicit = replace(settings, analyst_database_url="postgresql://bi@db.example/billing")
    assert explicit.role_dsn("analyst") == "postgresql://bi@db.example/billing"
    assert explicit.sink_dsn == settings.database_url


def test_passwords_are_made_once_private_and_never_printed(tmp_path):
    first = credentials.passwords(tmp_path)
    assert set(first) == set(credentials.ROLES) and len(set(first.values())) == len(first)
    assert credentials.passwords(tmp_path) == first
    for path in (credentials.passwords_file(tmp_path), credentials.passfile(tmp_path)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = credentials.passfile(tmp_path).read_text().splitlines()
    assert f"127.0.0.1:*:*:rcm_sink:{first['rcm_sink']}" in lines
    settings = replace(Settings(), home=tmp_path, database_url="")
    printed = "\n".join(credentials.env_lines(settings))
    assert not [p for p in first.values() if p in printed]
    exports = dict(shlex.split(line)[1].split("=", 1) for line in printed.splitlines())
    assert exports["PGPASSFILE"] == str(credentials.passfile(tmp_path))
    assert exports["RCM_ANALYST_DATABASE_URL"] == settings.role_dsn("analyst")


def test_the_server_gets_a_scram_verifier_not_the_password():
    verifier = credentials.scram_verifier("pencil", salt=b"0123456789abcdef")
    assert verifier.startswith("SCRAM-SHA-256$4096:MDEyMzQ1Njc4OWFiY2RlZg==$")
    assert "pencil" not in verifier
    assert verifier != credentials.scram_verifier("pencil")  # a fresh salt each time
