"""The live readiness map: its JSON on both backends, its page, and the page in a real browser."""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from click.testing import CliRunner

from pollnet.cli import cli
from pollnet.link.heartbeat import Heartbeat, HeartbeatBoard
from pollnet.registry import import_stations, list_stations
from pollnet.settings import Settings
from pollnet.store import open_store
from pollnet.web import DashboardSettings, create_app, render_page
from tests.browser import CHROMIUM, CHROMIUM_FLAGS, require_chromium
from tests.pgserver import free_port

NOW = dt.datetime(2028, 2, 25, 10, 0, tzinfo=dt.UTC)
STATIONS = """code,name,site,address,district,lat,lon,voters,devices,critical
ST-1,Shoheda,School 1,Street 1,6,35.7001,51.4002,900,2,no
ST-2,Azadi,School 2,Street 2,6,35.7101,51.4102,800,2,yes
ST-3,Enghelab,School 3,Street 3,11,35.6901,51.3902,700,1,no
"""


def beat(device: str, station: str, link: str, at: dt.datetime) -> Heartbeat:
    return Heartbeat(device, station, link, 0, 0.1, "1.0", 90, at)


def seeded(url: str, tmp_path: Path) -> None:
    engine = open_store(url)
    path = tmp_path / "stations.csv"
    path.write_text(STATIONS, "utf-8")
    import_stations(engine, path, settings=Settings())
    board = HeartbeatBoard(engine, interval_s=30)
    board.record(beat("D-1", "ST-1", "fiber", NOW - dt.timedelta(seconds=5)))
    board.record(beat("D-2", "ST-1", "fiber", NOW - dt.timedelta(seconds=8)))
    board.record(beat("D-3", "ST-2", "lte", NOW - dt.timedelta(seconds=3)))  # one device, on LTE
    board.record(beat("D-9", "XX-9", "fiber", NOW - dt.timedelta(seconds=2)))  # not registered
    board.flush()


def test_json_on_both_backends(db_url: str, tmp_path: Path) -> None:
    seeded(db_url, tmp_path)
    with serving(create_app(open_store(db_url), "en", clock=lambda: NOW)) as (url, _server):
        answer = httpx.get(url + "api/readiness")
        page = httpx.get(url)
        icon = httpx.get(url + "favicon.ico")
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert icon.status_code == 204
    data = answer.json()
    assert data["counts"] == {"ready": 2, "degraded": 1, "offline": 1}
    assert data["updated_label"].startswith("2028-02-2")  # English: the Gregorian date
    by_code = {s["code"]: s for s in data["stations"]}
    assert by_code["ST-1"]["state"] == "ready" and by_code["ST-1"]["devices_online"] == 2
    assert by_code["ST-2"]["state"] == "degraded" and by_code["ST-2"]["on_lte"] == 1
    assert by_code["ST-3"]["state"] == "offline" and by_code["ST-3"]["devices_online"] == 0
    assert (by_code["ST-1"]["lat"], by_code["ST-1"]["lon"]) == (35.7001, 51.4002)
    assert by_code["XX-9"]["lat"] is None and by_code["XX-9"]["district"] is None
    assert data["districts"] == [
        {"district": 6, "ready": 1, "degraded": 1, "offline": 0},
        {"district": 11, "ready": 0, "degraded": 0, "offline": 1},
        {"district": None, "ready": 1, "degraded": 0, "offline": 0},
    ]
    # Three missed intervals later every station is offline.
    later = create_app(open_store(db_url), "en", clock=lambda: NOW + dt.timedelta(minutes=2))
    with serving(later) as (url, _server):
        assert httpx.get(url + "api/readiness").json()["counts"]["offline"] == 4


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_page_is_self_contained_and_translated(lang: str) -> None:
    html = render_page(lang, DashboardSettings(refresh_s=2))
    assert f'lang="{lang}" dir="{"rtl" if lang == "fa" else "ltr"}"' in html
    assert not re.search(r"https?://", html) and "url(" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']""", html)
    assert "const REFRESH_MS = 2000;" in html
    title = "آمادگی شعبه‌ها در روز انتخابات" if lang == "fa" else "Election-day readiness"
    assert f"<title>{title}</title>" in html


@contextmanager
def serving(app: object) -> Iterator[tuple[str, uvicorn.Server]]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}/", server
    finally:
        server.should_exit = True
        thread.join(10)


def test_live_map_in_a_real_browser(tmp_path: Path) -> None:
    require_chromium()
    from playwright import sync_api

    demo = tmp_path / "demo"
    made = CliRunner().invoke(cli, ["demo", "--out", str(demo), "--stations", "300"])
    assert made.exit_code == 0, made.output
    engine = open_store(f"sqlite:///{demo / 'pollnet.db'}")
    stations = list_stations(engine)
    board = HeartbeatBoard(engine, interval_s=30)
    now = dt.datetime.now(dt.UTC)
    for i, s in enumerate(stations):  # most ready, every 7th on LTE, every 11th silent
        if i % 11 == 5:
            continue
        for d in range(s.devices):
            link = "lte" if i % 7 == 3 and d == 0 else "fiber"
            board.record(beat(f"{s.code}-{d}", s.code, link, now))
    board.flush()
    silent = stations[5]
    app = create_app(engine, "fa", DashboardSettings(refresh_s=0.3))
    errors: list[str] = []
    with serving(app) as (url, server), sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 850})
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(url)
            page.wait_for_selector("#map[data-ready='1']", timeout=20000)
            canvas = page.locator("#map")
            assert int(canvas.get_attribute("data-drawn-stations") or -1) == len(stations)
            offline = page.locator("#count-offline").inner_text()
            silent_count = sum(1 for i in range(len(stations)) if i % 11 == 5)
            assert offline == str(silent_count).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
            assert page.locator("#districts tbody tr").count() >= 10
            updated = page.locator("#updated").inner_text()
            assert "۱۴۰" in updated and ":" in updated  # a Jalali date, Persian digits, a time
            # Hovering a station shows its card.
            box = canvas.bounding_box()
            assert box is not None
            x, y = page.evaluate("window.pollnetReadiness.stationAt(0)")
            page.mouse.move(box["x"] + x, box["y"] + y)
            hovered = canvas.get_attribute("data-hover")
            assert hovered and hovered in page.locator("#tip").inner_text()
            target = os.environ.get("POLLNET_READINESS_SCREENSHOT")
            if target:
                page.screenshot(path=target)
            # A silent station's devices come back: the map follows without a reload.
            before = canvas.get_attribute("data-updated")
            for d in range(silent.devices):
                board.record(
                    beat(f"{silent.code}-{d}", silent.code, "fiber", dt.datetime.now(dt.UTC))
                )
            board.flush()
            fewer = str(silent_count - 1).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
            page.wait_for_function(
                f"document.getElementById('count-offline').textContent === '{fewer}'",
                timeout=10000,
            )
            assert canvas.get_attribute("data-updated") != before
            assert errors == []
            # The server goes away: the page says so and keeps the last map.
            server.should_exit = True
            page.wait_for_selector("body[data-stale='1']", timeout=10000)
            assert page.locator("#stale").is_visible()
            assert int(canvas.get_attribute("data-drawn-stations") or -1) == len(stations)
        finally:
            browser.close()
    assert all("ERR_CONNECTION_REFUSED" in e for e in errors), errors  # only once it stopped


def test_the_dashboard_without_sign_in_stays_on_this_machine(tmp_path: Path) -> None:
    """The old read-only map has no accounts: it refuses an address others can reach and
    sends the user to the signed-in operations web."""
    import subprocess
    import sys

    for lang, words in (("en", "option --host"), ("fa", "گزینه --host")):
        done = subprocess.run(
            [sys.executable, "-m", "pollnet", "--lang", lang, "dashboard", "--host", "0.0.0.0"],
            capture_output=True,
            text=True,
            timeout=120,
            env={"PATH": "/usr/bin:/bin", "POLLNET_DB": f"sqlite:///{tmp_path / 'p.db'}"},
        )
        assert done.returncode == 1, done.stderr
        assert words in done.stderr and "pollnet web" in done.stderr
        assert "Traceback" not in done.stderr
