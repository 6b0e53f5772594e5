"""The operations web in real headless Chromium (one browser for the module), over HTTPS:
sign in, find a red station by search, open its page, update a work order as the
municipality, be refused as the observer; the map follows a heartbeat without a reload; no
request leaves 127.0.0.1. With ``POLLNET_WEB_SCREENSHOTS=DIR`` the tests save the screenshots
docs/web.md shows."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from pollnet.link.heartbeat import HeartbeatBoard
from pollnet.registry import list_stations
from pollnet.rollout.store import load_work_orders
from pollnet.store import open_store
from pollnet.web.live import classify, read_devices
from tests.browser import CHROMIUM, CHROMIUM_FLAGS, require_chromium
from tests.web.world import PASSWORD, beat, copy, heartbeats, https_app, serving

FA = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@pytest.fixture(scope="module")
def site(world: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The world served over HTTPS in Persian, and one headless Chromium."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    folder = tmp_path_factory.mktemp("browser")
    url = copy(world, folder)
    heartbeats(url, dt.datetime.now(dt.UTC))
    app, tls = https_app(url, folder, "fa")
    with serving(app, **tls) as port, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield {"url": url, "base": f"https://127.0.0.1:{port}", "browser": browser}
        finally:
            browser.close()


def open_page(site: dict[str, Any], requests: list[str], errors: list[str]) -> Any:
    context = site["browser"].new_context(
        ignore_https_errors=True, viewport={"width": 1400, "height": 900}
    )
    page = context.new_page()
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return page


def sign_in(page: Any, base: str, name: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/readiness")


def shot(page: Any, name: str) -> None:
    folder = os.environ.get("POLLNET_WEB_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / name))


def test_municipality_finds_a_red_station_and_updates_its_work(site: dict[str, Any]) -> None:
    engine = open_store(site["url"])
    now = dt.datetime.now(dt.UTC)
    devices = read_devices(engine)
    stations = list_stations(engine)
    red = next(
        s
        for s in stations
        if classify(devices.get(s.code, []), s.devices, now, 30).cls == "offline"
    )
    requests: list[str] = []
    errors: list[str] = []
    page = open_page(site, requests, errors)
    base = site["base"]
    sign_in(page, base, "west")
    page.wait_for_selector("#readiness[data-ready='1']", timeout=20000)
    assert page.locator("#map").get_attribute("data-drawn-stations") == str(len(stations))
    offline = page.locator("#count-offline").inner_text()
    assert offline.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")).isdigit()
    assert page.locator("#problems li").count() >= 1
    assert page.locator("#districts tbody tr").count() >= 1
    page.wait_for_selector("#map[data-basemap-tiles]", timeout=20000)
    page.fill("#search", red.code)
    found = page.locator(f"#found li[data-code='{red.code}']")
    found.wait_for(timeout=5000)
    assert "cls-offline" in (found.get_attribute("class") or "")
    # Hovering the station's dot shows its card; the Latin code keeps its direction.
    box = page.locator("#map").bounding_box()
    x, y = page.evaluate(f"window.pollnetReadiness.pointOf('{red.code}')")
    page.mouse.move(box["x"] + x, box["y"] + y)
    card = page.locator(".station-tip")
    card.wait_for(timeout=5000)
    assert red.code in card.inner_text() and card.locator("bdi").count() >= 1
    shot(page, "web-readiness.png")

    # The station comes back: the page follows without a reload.
    board = HeartbeatBoard(engine, interval_s=30)
    for d in range(red.devices):
        board.record(beat(f"{red.code}-{d}", red.code, "fiber", dt.datetime.now(dt.UTC)))
    board.flush()
    fewer = str(int(offline.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))) - 1)
    # (waits by selector: the page's policy forbids the string scripts wait_for_function uses)
    page.wait_for_selector(f"#count-offline:text-is('{fewer.translate(FA)}')", timeout=10000)
    board.record(beat(f"{red.code}-0", red.code, "fiber", now - dt.timedelta(minutes=30)))
    board.flush()  # its first device falls silent again (for the station page below)

    page.click(f"#found li[data-code='{red.code}'] a")
    page.wait_for_selector("#station[data-ready='1']", timeout=20000)
    assert page.locator("#devices tbody tr").count() == red.devices
    assert int(page.locator("#station").get_attribute("data-route-segments") or 0) > 0
    shot(page, "web-station.png")

    # The municipality's own work: a bad date gets the sheet import's message; a good
    # update is saved.
    orders, _ = load_work_orders(engine)
    permit = next(o for o in orders if o.kind == "permit" and o.municipality == "west")
    page.goto(base + f"/work?q={permit.id}")
    row = page.locator(f"#order-{permit.id}")
    row.locator("select[name=status]").select_option("done")
    row.locator("input[name=date]").fill("1405/13/40")
    row.locator("button[type=submit]").click()
    error = page.locator(f"#order-{permit.id} .field-error[data-field=date]")
    error.wait_for(timeout=10000)
    assert "1405/13/40" in error.inner_text()
    shot(page, "web-work-order.png")
    row = page.locator(f"#order-{permit.id}")
    row.locator("select[name=status]").select_option("in_progress")
    row.locator("input[name=date]").fill("")
    row.locator("button[type=submit]").click()
    page.wait_for_selector(f"#order-{permit.id}[data-status='in_progress']", timeout=10000)
    assert load_work_orders(engine)[1][permit.id].status == "in_progress"
    assert [e for e in errors if "422" not in e] == []  # the refused form's answer is a 422
    assert {urlsplit(u).hostname for u in requests} == {"127.0.0.1"}, set(requests)


def test_the_observer_is_refused(site: dict[str, Any]) -> None:
    engine = open_store(site["url"])
    orders, _ = load_work_orders(engine)
    permit = next(o for o in orders if o.kind == "permit" and o.municipality == "east")
    requests: list[str] = []
    errors: list[str] = []
    page = open_page(site, requests, errors)
    base = site["base"]
    sign_in(page, base, "observer")
    page.goto(base + f"/work/{permit.id}")
    assert page.locator("form.order-form").count() == 0  # nothing to change
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    status, text = page.evaluate(
        """async ([id, token]) => {
            const body = new URLSearchParams({csrf: token, status: "in_progress"});
            const r = await fetch("/work/" + id, {method: "POST", body});
            return [r.status, await r.text()];
        }""",
        [permit.id, token],
    )
    assert status == 403 and text.strip() == "شما اجازهٔ این کار را ندارید."
    page.goto(base + "/admin/audit")
    assert "شما اجازهٔ این کار را ندارید." in page.locator("body").inner_text()
    assert load_work_orders(engine)[1][permit.id].status == "planned"
    assert {urlsplit(u).hostname for u in requests} == {"127.0.0.1"}


def test_the_plan_map_draws_its_layers_and_the_temporary_cells(site: dict[str, Any]) -> None:
    requests: list[str] = []
    errors: list[str] = []
    page = open_page(site, requests, errors)
    base = site["base"]
    sign_in(page, base, "observer")
    page.goto(base + "/plan")
    page.wait_for_selector("#plan[data-ready='1']", state="attached", timeout=30000)
    cells = page.evaluate("fetch('/api/plan').then((r) => r.json()).then((d) => d.cells)")
    assert errors == []
    assert page.get_attribute("#plan", "data-cells") == str(len(cells))
    assert page.inner_text("#count-cells") == str(len(cells)).translate(FA)
    operators = {c["operator"] for c in cells}
    assert page.locator("#cells li").count() == len(operators)
    assert {urlsplit(u).hostname for u in requests} == {"127.0.0.1"}
