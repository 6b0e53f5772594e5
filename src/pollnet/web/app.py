"""``pollnet web``: the signed-in operations web of the election office, the three agencies and
observers, as one Starlette application.

Every route is listed here with its rule (:mod:`pollnet.web.guard`): who may read it and who
may write. A test walks every role over every route, read and write, from this table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from pollnet.users import Account
from pollnet.web import admin, signin
from pollnet.web.config import WebSettings
from pollnet.web.guard import ADMIN, AGENCIES, EVERYONE, Clock, Handler, Rule, Web, guarded, methods
from pollnet.web.security import LoginLimiter, SecurityHeaders, content_policy

SESSION_COOKIE = "pollnet_session"


async def _home(web: Web, request: Request, account: Account) -> Response:
    return RedirectResponse("/readiness", status_code=303)


def routes(web: Web) -> list[BaseRoute]:
    """Every route of the app: guarded ones with their rule, then the public ones. A work
    order's POST also checks, in its handler, that the order is the account's agency's (and
    area's)."""
    from pollnet.web import basemap, orders, plans, readiness, station

    # path, who may read and write, the GET handler, the POST handler
    table: list[tuple[str, Rule, Handler | None, Handler | None]] = [
        ("/", Rule(EVERYONE), _home, None),
        ("/readiness", Rule(EVERYONE), readiness.page_view, None),
        ("/api/readiness", Rule(EVERYONE), readiness.snapshot, None),
        ("/api/readiness/events", Rule(EVERYONE), readiness.events, None),
        ("/api/basemap/{z:int}/{x:int}/{y:int}", Rule(EVERYONE), basemap.tile_view, None),
        ("/stations/{code}", Rule(EVERYONE), station.station_page, None),
        ("/work", Rule(EVERYONE), orders.list_page, None),
        ("/work/{order_id}", Rule(EVERYONE, AGENCIES), orders.order_page, orders.update),
        ("/plan", Rule(EVERYONE), plans.plan_page, None),
        ("/api/plan", Rule(EVERYONE), plans.plan_data, None),
        ("/reports", Rule(EVERYONE), plans.reports_page, None),
        ("/reports/weekly", Rule(EVERYONE), plans.weekly_report, None),
        ("/admin/audit", Rule(ADMIN), admin.audit_page, None),
        ("/admin/users", Rule(ADMIN), admin.users_page, None),
        ("/admin/users/{name}/disable", Rule(frozenset(), ADMIN), None, admin.disable),
    ]
    guarded_routes: list[BaseRoute] = [
        Route(path, guarded(web, rule, read, write), methods=list(methods(rule)))
        for path, rule, read, write in table
    ]
    return [
        *guarded_routes,
        Route("/login", _public(web, signin.login_form), methods=["GET"]),
        Route("/login", _public(web, signin.login), methods=["POST"]),
        Route("/logout", _public(web, signin.logout), methods=["POST"]),
        Route("/favicon.ico", _no_icon, methods=["GET"]),
        Mount("/static", StaticFiles(packages=[("pollnet.web", "static")]), name="static"),
    ]


def _public(
    web: Web, handler: Callable[[Web, Request], Awaitable[Response]]
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await handler(web, request)

    endpoint.__name__ = handler.__name__
    return endpoint


async def _no_icon(request: Request) -> Response:
    return Response(status_code=204)


def create_app(
    engine: Engine,
    settings: WebSettings,
    secret: str,
    *,
    lang: str = "fa",
    https: bool = True,
    clock: Clock | None = None,
) -> Starlette:
    """The operations web as an ASGI app. ``secret`` signs the session cookies; ``https``
    False (plain HTTP on 127.0.0.1 only) lets the cookie travel without TLS."""
    web = Web(
        engine,
        settings,
        lang=lang,
        https=https,
        clock=clock or (lambda: dt.datetime.now(dt.UTC)),
        limiter=LoginLimiter(settings.login_attempts, settings.login_window_seconds),
    )
    tile_origin = "/".join(settings.tile_url.split("/")[:3]) if settings.tile_url else ""
    app = Starlette(
        routes=routes(web),
        middleware=[
            Middleware(SecurityHeaders, policy=content_policy(tile_origin), https=https),
            Middleware(
                SessionMiddleware,
                secret_key=secret,
                session_cookie=SESSION_COOKIE,
                max_age=int(settings.session_minutes * 60),
                same_site="strict",
                https_only=https,
            ),
        ],
    )
    app.state.web = web
    return app
