"""Every role against every endpoint of the operations web, read and write: the answer each
gets, a 403 and an audit row for every refusal, never data. The endpoints are taken from the
app's own routes, so a new one fails here until its row is added."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from pollnet.registry import list_stations
from pollnet.rollout.store import load_work_orders
from pollnet.store import open_store
from pollnet.store.schema.users import audit
from pollnet.users import Actor, add_user
from tests.web.world import ACCOUNTS, PASSWORD, client, copy, csrf, heartbeats, sign_in

ALL = {"admin", "operator", "telecom", "west", "edu1", "observer"}
NONE: set[str] = set()
ADMIN = {"admin"}
PUBLIC = "public"

# path -> (who may read (GET), who may write (POST), the answer when allowed (GET, POST))
EXPECTED: dict[str, tuple[set[str], set[str], tuple[int, int]]] = {
    "/": (ALL, NONE, (303, 0)),
    "/readiness": (ALL, NONE, (200, 0)),
    "/api/readiness": (ALL, NONE, (200, 0)),
    "/api/readiness/events": (ALL, NONE, (200, 0)),
    "/admin/audit": (ADMIN, NONE, (200, 0)),
    "/admin/users": (ADMIN, NONE, (200, 0)),
    "/admin/users/{name}/disable": (NONE, ADMIN, (0, 303)),
    "/api/basemap/{z:int}/{x:int}/{y:int}": (ALL, NONE, (200, 0)),
    "/stations/{code}": (ALL, NONE, (200, 0)),
    "/work": (ALL, NONE, (200, 0)),
    "/work/{order_id}": (ALL, ALL - {"observer"}, (200, 303)),
    "/plan": (ALL, NONE, (200, 0)),
    "/api/plan": (ALL, NONE, (200, 0)),
    "/reports": (ALL, NONE, (200, 0)),
    "/reports/weekly": (ALL, NONE, (200, 0)),
}
# A work order each role may update: its agency's (and area's); others get any.
OWN_ORDER = {
    "admin": ("telecom", ""),
    "operator": ("election_office", ""),
    "telecom": ("telecom", ""),
    "west": ("municipality", "west"),
    "edu1": ("education", "1"),
}
PUBLIC_ROUTES = {"/login", "/logout", "/favicon.ico", "/static"}


def concrete(path: str, who: str, samples: dict[str, str]) -> str:
    """A real URL for a route's path, for the account ``who``."""
    samples = {**samples, "{name}": f"spare-{who}", "{order_id}": samples[f"order:{who}"]}
    for name, value in samples.items():
        path = path.replace(name, value)
    if path == "/api/readiness/events":
        path += "?seconds=0"
    return path


def denied_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).where(audit.c.outcome == "denied")).scalar_one()
        )


def routes(browser: TestClient) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for route in browser.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, Route):
            found.setdefault(route.path, set()).update(route.methods or ())
        elif isinstance(route, Mount):
            found.setdefault(route.path, set()).add("GET")
    return found


def test_every_route_is_in_the_matrix(world: Path, tmp_path: Path) -> None:
    browser = client(copy(world, tmp_path), tmp_path)
    paths = set(routes(browser))
    assert paths == set(EXPECTED) | PUBLIC_ROUTES


@pytest.fixture(scope="module")
def shared(
    world: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path, dict[str, str]]:
    """One copy of the world for the whole matrix, with a spare account per role to disable,
    and the path parameters to fill in (a station, a basemap tile, a work order per role)."""
    folder = tmp_path_factory.mktemp("matrix")
    url = copy(world, folder)
    now = dt.datetime.now(dt.UTC)
    heartbeats(url, now)
    engine = open_store(url)
    for who in [*ALL, "anonymous"]:
        add_user(engine, f"spare-{who}", "observer", PASSWORD, Actor("t", "cli"), now=now)
    station = list_stations(engine)[0]
    n = 2**15
    x = int((station.lon + 180) / 360 * n)
    lat = math.radians(station.lat)
    y = int((1 - math.log(math.tan(lat) + 1 / math.cos(lat)) / math.pi) / 2 * n)
    orders, _ = load_work_orders(engine)
    samples = {"{code}": station.code, "{z:int}": "15", "{x:int}": str(x), "{y:int}": str(y)}
    for who in [*ALL, "anonymous"]:
        agency, scope = OWN_ORDER.get(who, ("telecom", ""))
        samples[f"order:{who}"] = next(
            o.id
            for o in orders
            if o.agency == agency
            and o.scope == scope
            and o.kind in ("permit", "access", "ont", "device_install")
        )
    engine.dispose()
    return url, folder, samples


@pytest.mark.parametrize("who", [*sorted(ALL), "anonymous"])
def test_every_role_on_every_endpoint(shared: tuple[str, Path, dict[str, str]], who: str) -> None:
    url, folder, samples = shared
    engine = open_store(url)
    browser = client(url, folder)
    token = sign_in(browser, who) if who != "anonymous" else csrf(browser.get("/login").text)
    for path, methods in routes(browser).items():
        if path in PUBLIC_ROUTES:
            continue
        readers, writers, (read_ok, write_ok) = EXPECTED[path]
        target = concrete(path, who, samples)
        for method, allowed, ok in (("GET", readers, read_ok), ("POST", writers, write_ok)):
            before = denied_rows(engine)
            if method not in methods:
                answer = browser.request(method, target, data={"csrf": token})
                assert answer.status_code == 405, (who, method, path)
                continue
            if method == "GET":
                answer = browser.get(target)
            else:
                answer = browser.post(target, data={"csrf": token, "status": "in_progress"})
            if who == "anonymous" and method == "GET":
                assert answer.status_code == 303 and answer.headers["location"].startswith(
                    "/login"
                ), (who, method, path)
            elif who in allowed:
                assert answer.status_code == ok, (who, method, path, answer.text[:300])
                assert denied_rows(engine) == before
            else:
                assert answer.status_code == 403, (who, method, path, answer.status_code)
                assert answer.text.strip() == "You may not do this."  # no data
                assert denied_rows(engine) == before + 1, (who, method, path)


def test_a_write_without_the_csrf_token_is_refused(world: Path, tmp_path: Path) -> None:
    url = copy(world, tmp_path)
    engine = open_store(url)
    add_user(engine, "spare", "observer", PASSWORD, Actor("t", "cli"), now=dt.datetime.now(dt.UTC))
    browser = client(url, tmp_path)
    token = sign_in(browser, "admin")
    for data in ({}, {"csrf": "forged"}):
        answer = browser.post("/admin/users/spare/disable", data=data)
        assert answer.status_code == 403
    assert browser.post("/admin/users/spare/disable", data={"csrf": token}).status_code == 303
    assert "spare" in browser.get("/admin/audit").text


def test_public_routes(world: Path, tmp_path: Path) -> None:
    browser = client(copy(world, tmp_path), tmp_path)
    assert browser.get("/login").status_code == 200
    assert browser.get("/favicon.ico").status_code == 204
    css = browser.get("/static/pollnet.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert browser.post("/logout").status_code == 403  # no CSRF token
    assert set(ACCOUNTS) == ALL
