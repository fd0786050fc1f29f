"""Users, passwords (argon2id), sessions, login throttling and the audit trail.

A session cookie holds a random token; the database keeps only its SHA-256, with the session's
CSRF token and expiry. Failed logins are counted per user name and per client address: too many in
THROTTLE_WINDOW lock further attempts out until the window passes, whatever the password.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES: dict[str, str] = {
    "coder": "Coder",
    "biller": "Biller",
    "denials": "Denials specialist",
    "ops": "Operations",
    "analyst": "Analyst",
    "admin": "Administrator",
}
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 12
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_USER_FAILURES = 5
MAX_CLIENT_FAILURES = 20

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile
_DUMMY = _hasher.hash("not a password: equalises the time of unknown user names")


class LoginRefused(Exception):
    """Wrong user name or password (the message never says which)."""


class Throttled(LoginRefused):
    """Too many failures recently: refused without checking the password."""


@dataclass(frozen=True)
class User:
    username: str
    role: str
    csrf_token: str

    @property
    def role_name(self) -> str:
        return ROLES[self.role]


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"a password needs at least {MIN_PASSWORD} characters"
    return None


def add_user(db, username: str, role: str, password: str) -> None:
    """Create a user, or set the role and password of an existing one."""
    if not USERNAME.match(username):
        raise ValueError("a user name is 2-64 characters: lower-case letters, digits, . _ -")
    if role not in ROLES:
        raise ValueError(f"role must be one of: {', '.join(ROLES)}")
    if problem := password_problem(password):
        raise ValueError(problem)
    db.execute("""insert into console_users (username, role, password_hash) values (%s, %s, %s)
                  on conflict (username) do update set role = excluded.role,
                      password_hash = excluded.password_hash, active = true,
                      password_set_at = clock_timestamp()""",
               (username, role, _hasher.hash(password)))
    db.execute("delete from console_sessions where username = %s", (username,))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(db, username: str, password: str, client: str, hours: float) -> str:
    """Check the password and open a session; return the cookie token. Raises LoginRefused."""
    username = username.strip().lower()[:64]
    recent = db.one("""select count(*) filter (where username = %(u)s) as user_failures,
                              count(*) filter (where client = %(c)s) as client_failures
                       from console_login_attempts
                       where not succeeded and attempted_at > clock_timestamp() - %(w)s
                         and (username = %(u)s or client = %(c)s)""",
                    {"u": username, "c": client, "w": THROTTLE_WINDOW})
    if (recent["user_failures"] >= MAX_USER_FAILURES
            or recent["client_failures"] >= MAX_CLIENT_FAILURES):
        _attempt(db, username, client, False)
        raise Throttled("too many failed logins: try again in 15 minutes")
    row = db.one("select password_hash, role from console_users where username = %s and active",
                 (username,))
    ok = False
    try:
        ok = _hasher.verify(row["password_hash"] if row else _DUMMY, password) and row is not None
    except (VerificationError, InvalidHashError):
        ok = False
    _attempt(db, username, client, ok)
    if not ok:
        raise LoginRefused("wrong user name or password")
    token = secrets.token_urlsafe(32)
    db.execute("""insert into console_sessions (session_hash, username, csrf_token, expires_at)
                  values (%s, %s, %s, clock_timestamp() + %s)""",
               (_digest(token), username, secrets.token_urlsafe(32), timedelta(hours=hours)))
    if _hasher.check_needs_rehash(row["password_hash"]):
        db.execute("update console_users set password_hash = %s where username = %s",
                   (_hasher.hash(password), username))
    audit(db, username, row["role"], "login")
    return token


def _attempt(db, username: str, client: str, ok: bool) -> None:
    db.execute("insert into console_login_attempts (username, client, succeeded) "
               "values (%s, %s, %s)", (username, client, ok))


def session_user(db, token: str | None) -> User | None:
    if not token:
        return None
    row = db.one("""update console_sessions s set last_seen_at = clock_timestamp()
                    from console_users u
                    where s.session_hash = %s and s.expires_at > clock_timestamp()
                      and u.username = s.username and u.active
                    returning u.username, u.role, s.csrf_token""", (_digest(token),))
    return User(row["username"], row["role"], row["csrf_token"]) if row else None


def logout(db, token: str | None) -> None:
    if token:
        db.execute("delete from console_sessions where session_hash = %s", (_digest(token),))


def audit(db, username: str, role: str, action: str, target: str | None = None,
          event_id: str | None = None, outcome: str = "ok") -> None:
    db.execute("""insert into console_audit (username, role, action, target, event_id, outcome)
                  values (%s, %s, %s, %s, %s, %s)""",
               (username, role, action, target, event_id, outcome))
