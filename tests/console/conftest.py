"""The console against the session's real PostgreSQL (a fresh database per test) and broker."""
from __future__ import annotations

import re
from dataclasses import replace

import pytest

PASSWORD = "correct horse battery"


@pytest.fixture
def console_settings(services, database_url):
    return replace(services.settings, database_url=database_url, console_database_url="",
                   kafka_bootstrap_servers=services.bootstrap, console_secure_cookie=True,
                   processor_metrics_port=0, sink_metrics_port=0)


@pytest.fixture
def console_db(console_settings):
    """The console's own connection: the read-only role `rcm_console`."""
    from infra.console.db import Db

    db = Db(console_settings.console_dsn, size=2)
    yield db
    db.close()


@pytest.fixture
def owner_db(console_settings):
    """The owner's connection, to seed pipeline rows as the sink would have written them."""
    from infra.console.db import Db

    db = Db(console_settings.dsn, size=1)
    yield db
    db.close()


@pytest.fixture
def client(console_settings):
    from starlette.testclient import TestClient

    from infra.console.app import build

    app = build(console_settings)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        yield c
    app.state.db.close()


@pytest.fixture
def make_user(console_db):
    from infra.console import auth

    def make(name: str, role: str) -> str:
        auth.add_user(console_db, name, role, PASSWORD)
        return name
    return make


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden field {name}"
    return found[1]


def log_in(client, name: str, password: str = PASSWORD):
    page = client.get("/login")
    return client.post("/login", data={"username": name, "password": password,
                                       "login_csrf": hidden(page.text, "login_csrf"), "next": "/"})


@pytest.fixture
def login(client, make_user):
    def as_role(role: str, name: str | None = None):
        name = make_user(name or f"{role}1", role)
        response = log_in(client, name)
        assert response.status_code == 303, response.text
        return client
    return as_role
