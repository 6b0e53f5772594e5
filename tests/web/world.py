"""A small world for the operations web's tests: the demo city (its plan and work orders) in two
municipalities and two education districts, a heartbeat per device, one account per role."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from click.testing import CliRunner
from starlette.testclient import TestClient

from pollnet.cli import cli
from pollnet.link.heartbeat import Heartbeat, HeartbeatBoard
from pollnet.registry import list_stations
from pollnet.store import open_store
from pollnet.users import Actor, add_user
from pollnet.web.app import create_app
from pollnet.web.config import WebSettings
from tests.pgserver import free_port

PASSWORD = "correct horse battery"
ACCOUNTS = {
    "admin": ("admin", None),
    "operator": ("operator", None),
    "telecom": ("telecom", None),
    "west": ("municipality", "west"),
    "edu1": ("education", "1"),
    "observer": ("observer", None),
}
"""User name -> (role, area)."""
SECRET = "a-session-key-for-the-tests-only-0123456789"


def _box(x0: float, y0: float, x1: float, y1: float) -> dict[str, object]:
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def build(folder: Path) -> Path:
    """The world's folder (``pollnet.db``, ``streets.npz``); ``folder`` must not exist."""
    runner = CliRunner()
    made = runner.invoke(cli, ["--lang", "en", "demo", "--out", str(folder), "--stations", "60"])
    assert made.exit_code == 0, made.output
    url = f"sqlite:///{folder / 'pollnet.db'}"
    engine = open_store(url)
    stations = list_stations(engine)
    lons = sorted(s.lon for s in stations)
    lats = sorted(s.lat for s in stations)
    mid_lon, mid_lat = lons[len(lons) // 2], lats[len(lats) // 2]
    x0, x1, y0, y1 = lons[0] - 0.05, lons[-1] + 0.05, lats[0] - 0.05, lats[-1] + 0.05
    features = [
        ({"kind": "county", "code": "c", "name_en": "Central", "name_fa": "مرکزی"},
         _box(x0, y0, x1, y1)),
        ({"kind": "municipality", "code": "west", "name_en": "West"}, _box(x0, y0, mid_lon, y1)),
        ({"kind": "municipality", "code": "east", "name_en": "East"}, _box(mid_lon, y0, x1, y1)),
        ({"kind": "education_district", "number": 1}, _box(x0, y0, x1, mid_lat)),
        ({"kind": "education_district", "number": 2}, _box(x0, mid_lat, x1, y1)),
    ]  # fmt: skip
    areas = folder / "areas.geojson"
    areas.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": p, "geometry": g} for p, g in features
                ],
            }
        ),
        "utf-8",
    )
    for args in (["areas", "import", str(areas)], ["work", "generate", "--by", "office"]):
        done = runner.invoke(cli, ["--lang", "en", "--db", url, *args])
        assert done.exit_code == 0, done.output
    now = dt.datetime.now(dt.UTC)
    for name, (role, scope) in ACCOUNTS.items():
        add_user(engine, name, role, PASSWORD, Actor("setup", "cli"), scope=scope, now=now)
    engine.dispose()
    return folder


def copy(world: Path, to: Path) -> str:
    """A copy of the world's database (and street cache) in ``to``; its URL."""
    to.mkdir(parents=True, exist_ok=True)
    shutil.copy(world / "streets.npz", to / "streets.npz")
    with sqlite3.connect(world / "pollnet.db") as source, sqlite3.connect(to / "pollnet.db") as db:
        source.backup(db)
    return f"sqlite:///{to / 'pollnet.db'}"


def beat(device: str, station: str, link: str, at: dt.datetime) -> Heartbeat:
    return Heartbeat(device, station, link, 0, 0.1, "1.0", 90, at)


def heartbeats(url: str, now: dt.datetime, silent_every: int = 7, lte_every: int = 5) -> None:
    """Most stations ready; every ``lte_every``-th on LTE; every ``silent_every``-th offline
    (its devices last heard ten minutes ago); the last three never installed."""
    engine = open_store(url)
    board = HeartbeatBoard(engine, interval_s=30)
    stations = list_stations(engine)
    for i, s in enumerate(stations[:-3]):
        at = now - dt.timedelta(minutes=10) if i % silent_every == 3 else now
        for d in range(s.devices):
            link = "lte" if i % lte_every == 1 and d == 0 else "fiber"
            board.record(beat(f"{s.code}-{d}", s.code, link, at))
    board.flush()


def client(url: str, folder: Path, **settings: object) -> TestClient:
    """A client of the web app over (simulated) HTTPS."""
    web = WebSettings(
        secret_file=folder / "session.key",
        pki_dir=folder / "pki",
        street_cache=folder / "streets.npz",
        **settings,  # type: ignore[arg-type]
    )
    app = create_app(open_store(url), web, SECRET, lang="en")
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf(page: str) -> str:
    found = CSRF.search(page)
    assert found, "no CSRF field on the page"
    return found.group(1)


def sign_in(browser: TestClient, name: str, password: str = PASSWORD) -> str:
    """Sign ``name`` in; the session's CSRF token."""
    form = browser.get("/login")
    answer = browser.post(
        "/login", data={"csrf": csrf(form.text), "name": name, "password": password, "next": "/"}
    )
    assert answer.status_code == 303, answer.text
    return csrf(browser.get("/admin/users" if name == "admin" else "/readiness").text)


@contextmanager
def serving(app: object, **tls: str) -> Iterator[int]:
    """``app`` served by uvicorn on 127.0.0.1 in a thread (TLS with ``ssl_certfile`` and
    ``ssl_keyfile``); its port. Stopped on leaving, also on failure."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **tls)  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


def https_app(url: str, folder: Path, lang: str) -> tuple[object, dict[str, str]]:
    """The web app for ``url`` and the TLS files of a fresh PKI's server certificate."""
    from pollnet.link import pki

    pki.init_pki(folder / "pki", election_date=dt.date.today())
    pki.issue_server_cert(folder / "pki")
    web = WebSettings(
        secret_file=folder / "session.key", pki_dir=folder / "pki",
        street_cache=folder / "streets.npz", poll_seconds=0.5,
    )  # fmt: skip
    app = create_app(open_store(url), web, SECRET, lang=lang)
    tls = {
        "ssl_certfile": str(folder / "pki" / "server.crt"),
        "ssl_keyfile": str(folder / "pki" / "server.key"),
    }
    return app, tls
