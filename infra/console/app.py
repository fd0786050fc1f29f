"""The console's ASGI application: routes, static files, security headers."""
from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from infra.console import accounts, codes, coding, denials, held, kpis, ops, rules, session
from infra.console.db import Db

HERE = Path(__file__).parent
# Third-party JavaScript, installed by `make venv` (npm ci in infra/console), never committed.
VENDOR = {"htmx.min.js": HERE / "node_modules/htmx.org/dist/htmx.min.js",
          "chart.umd.js": HERE / "node_modules/chart.js/dist/chart.umd.js"}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "object-src 'none'")


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response


async def vendor(request) -> Response:
    path = VENDOR.get(request.path_params["name"])
    if path is None or not path.exists():
        return Response("not installed: run `make venv` (npm ci in infra/console)", 404)
    return FileResponse(path, media_type="text/javascript")


def routes() -> list:
    return [
        Route("/", session.home),
        Route("/login", session.login, methods=["GET", "POST"]),
        Route("/logout", session.logout, methods=["POST"]),
        Route("/actions/{kind}/{event_id}", session.outcome),
        Route("/coding", coding.queue),
        Route("/coding/{review_id}", coding.review),
        Route("/coding/{review_id}/decide", coding.decide, methods=["POST"]),
        Route("/codes/search", coding.code_search),
        Route("/codes/check", coding.code_check),
        Route("/held", held.queue),
        Route("/claims/{claim_id}", held.claim),
        Route("/claims/{claim_id}/correct", held.correct, methods=["POST"]),
        Route("/denials", denials.queue),
        Route("/denials/{denial_id}/step", denials.step, methods=["POST"]),
        Route("/rules", rules.proposals),
        Route("/rules/decide", rules.decide, methods=["POST"]),
        Route("/accounts", accounts.find),
        Route("/accounts/{account_id}", accounts.show),
        Route("/accounts/{account_id}/payments", accounts.pay, methods=["POST"]),
        Route("/kpis", kpis.dashboard),
        Route("/kpis/{name}.csv", kpis.export),
        Route("/ops", ops.overview),
        Route("/ops/live", ops.live),
        Route("/ops/dead-letters", ops.dead_letters),
        Route("/vendor/{name}", vendor),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]


def build(settings) -> Starlette:
    app = Starlette(routes=routes(), middleware=[Middleware(SecurityHeaders)])
    app.state.settings = settings
    codes.use_releases(settings.icd10cm_releases)
    app.state.db = Db(settings.console_dsn)
    return app
