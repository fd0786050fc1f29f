"""What every page shares: the session, the role check, CSRF, rendering, the audit.

`@page("coding")` guards an endpoint: no session sends the browser to /login; a role that may not
use the page gets 403 (and an audit row); a POST without the session's CSRF token gets 400. The
endpoint itself is plain synchronous code (run in a worker thread) that gets a Ctx.
"""
from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from infra.console import auth
from infra.money import money

# page or action -> roles allowed. Ops and analysts get only pages without account-level rows.
ACCESS: dict[str, tuple[str, ...]] = {
    "home": tuple(auth.ROLES),
    "coding": ("coder", "admin"),
    "codes": ("coder", "biller", "admin"),
    "held": ("coder", "biller", "admin"),
    "correction": ("coder", "admin"),
    "denials": ("denials", "biller", "admin"),
    "appeal": ("denials", "admin"),
    "rules": ("denials", "biller", "admin"),
    "rule_decision": ("denials", "admin"),
    "account": ("biller", "denials", "admin"),
    "payment": ("biller", "admin"),
    "ops": ("ops", "admin"),
    "kpis": ("analyst", "ops", "biller", "denials", "admin"),
    "actions": ("coder", "biller", "denials", "admin"),
}
# The navigation, in order: (page key, path, label).
NAV = (("coding", "/coding", "Coding review"), ("held", "/held", "Held claims"),
       ("denials", "/denials", "Denials"), ("rules", "/rules", "Scrub rules"),
       ("account", "/accounts", "Accounts"), ("kpis", "/kpis", "KPIs and A/R"),
       ("ops", "/ops", "Pipeline"))
SESSION_COOKIE = "rcm_session"
LOGIN_CSRF_COOKIE = "rcm_login_csrf"
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


TEMPLATES.env.filters["money"] = money


def allowed(role: str, key: str) -> bool:
    return role in ACCESS[key]


@dataclass
class Ctx:
    request: Request
    user: auth.User
    form: dict

    @property
    def db(self):
        return self.request.app.state.db

    @property
    def settings(self):
        return self.request.app.state.settings

    def render(self, name: str, status: int = 200, **values) -> Response:
        return render(self.request, name, status, user=self.user, **values)

    def audit(self, action: str, target: str | None = None, event_id: str | None = None,
              outcome: str = "ok") -> None:
        auth.audit(self.db, self.user.username, self.user.role, action, target, event_id, outcome)


def render(request: Request, name: str, status: int = 200, **values) -> Response:
    user = values.get("user")
    nav = [(path, label) for key, path, label in NAV if user and allowed(user.role, key)]
    response = TEMPLATES.TemplateResponse(request, name, {"nav": nav, "money": money, **values},
                                          status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def new_action_id() -> str:
    """A form's idempotency key: the event id of what it publishes derives from it, so a
    resubmitted form publishes the same event and the pipeline applies it once."""
    return secrets.token_hex(16)


def page(key: str) -> Callable:
    def wrap(handler: Callable[[Ctx], Response]) -> Callable:
        async def endpoint(request: Request) -> Response:
            form = dict(await request.form()) if request.method == "POST" else {}
            return await run_in_threadpool(_guarded, key, handler, request, form)

        endpoint.__name__ = handler.__name__
        return endpoint
    return wrap


def _guarded(key: str, handler, request: Request, form: dict) -> Response:
    db = request.app.state.db
    user = auth.session_user(db, request.cookies.get(SESSION_COOKIE))
    if user is None:
        if request.headers.get("HX-Request"):
            return Response("session expired", status_code=401)
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    if not allowed(user.role, key):
        auth.audit(db, user.username, user.role, "denied", request.url.path, outcome="forbidden")
        return render(request, "denied.html", 403, user=user, page=key)
    if request.method == "POST":
        sent = str(form.get("csrf", ""))
        if not hmac.compare_digest(sent.encode(), user.csrf_token.encode()):
            auth.audit(db, user.username, user.role, "csrf_refused", request.url.path,
                       outcome="refused")
            return render(request, "error.html", 400, user=user,
                          message="This form has expired or did not come from the console. "
                                  "Reload the page and try again.")
    return handler(Ctx(request, user, form))
