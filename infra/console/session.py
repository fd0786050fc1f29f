"""Log in, log out, the home page and the outcome of an action."""
from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from infra.console import actions, auth
from infra.console.web import (
    LOGIN_CSRF_COOKIE,
    NAV,
    SESSION_COOKIE,
    Ctx,
    allowed,
    page,
    render,
)


def _safe_next(value: str | None) -> str:
    # "//host" and "/\\host" are other sites to a browser
    return value if value and value.startswith("/") and value[1:2] not in ("/", "\\") else "/"


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int | None):
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="strict",
                        secure=request.app.state.settings.console_secure_cookie, path="/")


def login_form(request: Request, error: str | None = None, status: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", status, login_csrf=token, error=error,
                      next=_safe_next(request.query_params.get("next")))
    _cookie(response, request, LOGIN_CSRF_COOKIE, token, 3600)
    return response


async def login(request: Request) -> Response:
    if request.method == "GET":
        return login_form(request)
    form = await request.form()
    sent, kept = str(form.get("login_csrf", "")), request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not kept or not hmac.compare_digest(sent.encode(), kept.encode()):
        return login_form(request, "The login form expired: try again.", 400)
    client = request.client.host if request.client else "unknown"
    settings = request.app.state.settings
    try:
        token = await run_in_threadpool(
            auth.login, request.app.state.db, str(form.get("username", "")),
            str(form.get("password", "")), client, settings.console_session_hours)
    except auth.Throttled as exc:
        return login_form(request, str(exc).capitalize() + ".", 429)
    except auth.LoginRefused:
        return login_form(request, "Wrong user name or password.", 401)
    response = RedirectResponse(_safe_next(str(form.get("next", ""))), status_code=303)
    _cookie(response, request, SESSION_COOKIE, token,
            int(timedelta(hours=settings.console_session_hours).total_seconds()))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@page("home")
def logout(ctx: Ctx):
    auth.logout(ctx.db, ctx.request.cookies.get(SESSION_COOKIE))
    ctx.audit("logout")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@page("home")
def home(ctx: Ctx):
    pages = [(path, label) for key, path, label in NAV if allowed(ctx.user.role, key)]
    return ctx.render("home.html", pages=pages)


@page("actions")
def outcome(ctx: Ctx):
    kind, eid = ctx.request.path_params["kind"], ctx.request.path_params["event_id"]
    if kind not in actions.KINDS:
        return ctx.render("error.html", 404, message="No such action.")
    sent = ctx.db.one("select at, target from console_audit where event_id = %s "
                      "order by at limit 1", (eid,))
    if sent is None:
        return ctx.render("error.html", 404, message="The console sent no such event.")
    state, reason = actions.status(ctx.db, kind, eid, sent["at"])
    template = "action_live.html" if ctx.request.headers.get("HX-Request") else "action.html"
    return ctx.render(template, kind=kind, event_id=eid, state=state, reason=reason,
                      target=sent["target"],
                      results=actions.results(ctx.db, kind, eid) if state == "applied" else [])
