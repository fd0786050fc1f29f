"""Logging in, sessions, CSRF, throttling, roles and the audit, over HTTP on real PostgreSQL."""
from __future__ import annotations

import pytest

from tests.console.conftest import PASSWORD, hidden, log_in

pytestmark = pytest.mark.integration


def test_a_password_is_stored_only_as_an_argon2id_hash(console_db, make_user):
    make_user("ada", "coder")
    [row] = console_db.rows("select password_hash from console_users where username = 'ada'")
    assert row["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in row["password_hash"]


def test_a_short_password_or_unknown_role_is_refused(console_db):
    from infra.console import auth

    with pytest.raises(ValueError, match="at least 12"):
        auth.add_user(console_db, "bob", "coder", "short")
    with pytest.raises(ValueError, match="role must be one of"):
        auth.add_user(console_db, "bob", "surgeon", PASSWORD)


def test_login_sets_a_secure_httponly_samesite_cookie_and_logout_ends_the_session(client, make_user,
                                                                                   console_db):
    make_user("ada", "coder")
    response = log_in(client, "ada")
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = next(v for k, v in response.headers.multi_items()
                  if k == "set-cookie" and v.startswith("rcm_session="))
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=strict" in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    stored = console_db.rows("select session_hash from console_sessions")
    assert len(stored) == 1 and stored[0]["session_hash"] != token  # only a digest is kept
    home = client.get("/")
    assert home.status_code == 200 and "Coding review" in home.text
    assert home.headers["content-security-policy"].startswith("default-src 'self'")
    client.post("/logout", data={"csrf": hidden(home.text, "csrf")})
    assert client.get("/").status_code == 303
    assert console_db.rows("select count(*) as n from console_sessions") == [{"n": 0}]


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(client, make_user):
    make_user("ada", "coder")
    for name in ("ada", "nobody"):
        response = log_in(client, name, "wrong password!")
        assert response.status_code == 401
        assert "Wrong user name or password." in response.text


def test_five_failures_lock_the_user_out_even_with_the_right_password(client, make_user):
    make_user("ada", "coder")
    for _ in range(5):
        assert log_in(client, "ada", "not the password").status_code == 401
    response = log_in(client, "ada")
    assert response.status_code == 429
    assert "too many failed logins" in response.text.lower()


def test_a_login_post_without_the_forms_token_is_refused(client, make_user):
    make_user("ada", "coder")
    response = client.post("/login", data={"username": "ada", "password": PASSWORD})
    assert response.status_code == 400
    assert "rcm_session" not in response.headers.get("set-cookie", "")


def test_a_post_without_the_sessions_csrf_token_changes_nothing(login, console_db):
    client = login("biller")
    response = client.post("/accounts/A1/payments", data={"kind": "PAYMENT", "method": "CASH",
                                                          "amount": "10.00", "csrf": "forged"})
    assert response.status_code == 400
    assert "did not come from the console" in response.text
    [row] = console_db.rows("select action, outcome from console_audit where action <> 'login'")
    assert row == {"action": "csrf_refused", "outcome": "refused"}


def test_no_session_sends_the_browser_to_the_login_page(client):
    response = client.get("/coding")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/coding"


@pytest.mark.parametrize(("role", "path"), [
    ("ops", "/accounts/A1"), ("analyst", "/accounts/A1"), ("ops", "/coding"),
    ("analyst", "/denials"), ("coder", "/denials"), ("biller", "/coding"), ("analyst", "/ops"),
    ("coder", "/kpis"), ("ops", "/rules"),
])
def test_a_role_without_the_page_gets_403_and_the_attempt_is_audited(login, console_db, role, path):
    client = login(role)
    response = client.get(path)
    assert response.status_code == 403
    assert "may not use this page" in response.text
    [row] = console_db.rows("select username, role, action, target, outcome from console_audit "
                            "where action = 'denied'")
    assert row == {"username": f"{role}1", "role": role, "action": "denied", "target": path,
                   "outcome": "forbidden"}


@pytest.mark.parametrize(("role", "allowed", "hidden_pages"), [
    ("coder", ["/coding", "/held"], ["/denials", "/accounts", "/ops", "/kpis"]),
    ("ops", ["/ops", "/kpis"], ["/coding", "/accounts", "/denials", "/held"]),
    ("analyst", ["/kpis"], ["/ops", "/coding", "/accounts", "/denials"]),
])
def test_the_navigation_shows_only_the_pages_of_the_role(login, role, allowed, hidden_pages):
    home = login(role).get("/").text
    for path in allowed:
        assert f'href="{path}"' in home
    for path in hidden_pages:
        assert f'href="{path}"' not in home


def test_the_console_role_reads_the_pipeline_and_writes_only_its_own_tables(console_db):
    def can(table: str, privilege: str) -> bool:
        [row] = console_db.rows("select has_table_privilege('rcm_console', %s, %s) as ok",
                                (table, privilege))
        return row["ok"]

    # `rcm up` gives the role its login and password; the console connects as it.
    [role] = console_db.rows("select rolcanlogin, current_user as me from pg_roles "
                             "where rolname = 'rcm_console'")
    assert role == {"rolcanlogin": True, "me": "rcm_console"}
    assert all(can(t, "SELECT") for t in ("claims", "denials", "coding_review", "dead_letters",
                                          "account_balances", "ledger_entries"))
    assert not any(can(t, p) for t in ("claims", "denials", "ledger_entries", "account_balances")
                   for p in ("INSERT", "UPDATE", "DELETE"))
    assert can("console_sessions", "INSERT") and can("console_audit", "INSERT")
    assert not can("console_audit", "UPDATE") and not can("console_audit", "DELETE")
