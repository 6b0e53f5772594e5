"""The HTML report: totals, no external resources, map data, and the map in a real browser."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pollnet.i18n import format_date, format_number, gettext, tr
from pollnet.plan.export import OSM_ATTRIBUTION
from pollnet.plan.outputs import write_all
from pollnet.plan.report import map_data, render_report, write_report
from pollnet.plan.worklists import write_telecom
from pollnet.streets.report import ImportReport
from tests.browser import CHROMIUM, CHROMIUM_FLAGS, require_chromium
from tests.plan._outputs import FAR_CODE, city_plan


def script_json(html: str, element_id: str) -> object:
    match = re.search(
        rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S
    )
    assert match is not None
    return json.loads(match.group(1))


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_report_shows_the_totals(lang: str) -> None:
    plan, graph, _ = city_plan()
    html = render_report(plan, graph, lang)
    t = plan.totals
    assert f'lang="{lang}" dir="{"rtl" if lang == "fa" else "ltr"}"' in html
    for value in (
        format_number(t.stations, lang, decimals=0),
        format_number(t.connected, lang, decimals=0),
        format_number(t.trench_m / 1000.0, lang, decimals=1),
        format_number(t.cable_m / 1000.0, lang, decimals=1),
        format_number(t.cost_rial, lang, decimals=0),
        format_number(t.cost_usd, lang, decimals=0),
        format_number(t.redundancy_cost_rial / 1e6, lang, decimals=0),
        format_date(plan.created_at.date(), lang),
    ):
        assert value in html, value
    assert FAR_CODE in html  # in the flagged stations table
    if lang == "fa":
        assert "۱۴" in format_date(plan.created_at.date(), lang)  # a Jalali year, Persian digits


def test_report_loads_nothing_from_outside() -> None:
    plan, graph, _ = city_plan()
    osm = graph.replace(report=ImportReport("tehran.osm.pbf"))
    for g in (graph, osm, None):
        html = render_report(plan, g, "fa")
        assert not re.search(r"https?://", html)
        assert not re.search(r"""(src|href)\s*=\s*["'](?!#)""", html)  # no external files
        assert "@import" not in html and "url(" not in html
        assert (OSM_ATTRIBUTION in html) is (g is osm)


def test_map_data_has_every_station_trench_and_street() -> None:
    plan, graph, _ = city_plan()
    data = map_data(plan, graph, "en")
    assert len(data["stations"]["code"]) == len(plan.stations)
    assert sum(len(lines) for lines in data["trenches"].values()) == len(plan.trenches)
    strokes = data["streets"]["major"] + data["streets"]["minor"]
    assert strokes and all(len(s) >= 4 and len(s) % 2 == 0 for s in strokes)
    far = data["stations"]["code"].index(FAR_CODE)
    assert data["stations"]["state"][far] == 2 and data["stations"]["flags"][far]
    # coordinates are 1e-5 degrees from the south-west corner
    for i, s in enumerate(plan.stations):
        assert data["stations"]["x"][i] / 1e5 + data["lon0"] == pytest.approx(s.lon, abs=6e-6)
        assert data["stations"]["y"][i] / 1e5 + data["lat0"] == pytest.approx(s.lat, abs=6e-6)
    without = map_data(plan, None, "en")
    assert without["streets"] == {}


def test_write_all_writes_every_output(tmp_path: Path) -> None:
    plan, graph, stations = city_plan()
    files = write_all(plan, graph, tmp_path, "fa", stations=stations)
    assert {"gpkg", "municipality", "telecom", "education", "report"} <= set(files)
    assert {k for k in files if k.startswith("geojson:")} == {
        "geojson:trenches",
        "geojson:drops",
        "geojson:cable_runs",
        "geojson:splices",
        "geojson:assignments",
        "geojson:exchanges",
        "geojson:stations",
    }
    for path in files.values():
        assert path.is_file() and path.stat().st_size > 0 and path.parent.is_relative_to(tmp_path)
    assert files["report"].name == "report-fa.html"


# -- in a real browser -------------------------------------------------------------------------


def open_report(html_path: Path, screenshot: Path, width: int = 1400, height: int = 900) -> dict:
    """Open the report in headless Chromium, exercise the map, screenshot it; return findings."""
    require_chromium()
    from playwright import sync_api

    found: dict = {"errors": [], "requests": []}
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.on(
                "console", lambda m: found["errors"].append(m.text) if m.type == "error" else None
            )
            page.on("pageerror", lambda e: found["errors"].append(str(e)))
            page.on("request", lambda r: found["requests"].append(r.url))
            page.goto(html_path.resolve().as_uri())
            page.wait_for_selector("#map[data-ready='1']", timeout=30000)
            canvas = page.locator("#map")
            found["drawn"] = int(canvas.get_attribute("data-drawn-stations") or -1)
            found["trenches"] = int(canvas.get_attribute("data-drawn-trenches") or -1)
            found["streets"] = int(canvas.get_attribute("data-drawn-streets") or -1)
            found["cheaper"] = int(canvas.get_attribute("data-drawn-cheaper") or -1)
            found["count"] = page.evaluate("window.pollnetMap.stationCount")
            page.evaluate("document.getElementById('map-section').scrollIntoView()")
            box = canvas.bounding_box()
            assert box is not None
            x, y = page.evaluate("window.pollnetMap.stationAt(0)")
            page.mouse.move(box["x"] + x, box["y"] + y)
            found["hover"] = canvas.get_attribute("data-hover")
            found["tip"] = page.locator("#map-tip").inner_text()
            page.mouse.click(box["x"] + x, box["y"] + y)
            found["selected"] = canvas.get_attribute("data-selected")
            found["info"] = page.locator("#map-info").inner_text()
            page.mouse.move(box["x"] + 5, box["y"] + box["height"] - 40)
            zoom = float(canvas.get_attribute("data-zoom") or 0)
            page.click("#zoom-in")
            page.wait_for_function(f"document.getElementById('map').dataset.zoom > {zoom}")
            found["zoomed"] = float(canvas.get_attribute("data-zoom") or 0) > zoom
            page.click("#zoom-reset")
            page.wait_for_function(f"document.getElementById('map').dataset.zoom == '{zoom:.5f}'")
            page.locator("#map-section").screenshot(path=str(screenshot))
        finally:
            browser.close()
    return found


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_map_draws_in_a_real_browser(tmp_path: Path, lang: str) -> None:
    plan, graph, _ = city_plan()
    html = write_report(plan, tmp_path / "report.html", graph, lang)
    target = os.environ.get("POLLNET_MAP_SCREENSHOT")
    png = Path(target) if target and lang == "fa" else tmp_path / "map.png"
    found = open_report(html, png)
    assert found["errors"] == []
    assert all(url.startswith("file:") for url in found["requests"]), found["requests"]
    assert found["drawn"] == found["count"] == len(plan.stations)
    assert found["trenches"] == len(plan.trenches)
    assert found["streets"] > 0
    first = plan.stations[0]
    assert found["hover"] == first.code and first.code in found["tip"]
    assert found["selected"] == first.code and first.code in found["info"]
    assert found["zoomed"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_flagged_for_review_is_one_number_in_card_section_and_work_list(
    lang: str, tmp_path: Path
) -> None:
    plan, graph, _ = city_plan()
    review = plan.for_review
    # the far station is not connected; a critical station without a second route is
    # connected with a warning: both are flagged for review
    assert plan.totals.flagged == 1 and len(review) == 2
    assert {s.status for s in review} == {"connected", "flagged"}
    html = render_report(plan, graph, lang)
    count = format_number(len(review), lang, decimals=0)
    label = re.escape(gettext("Flagged for review", lang))
    card = re.search(rf'<div class="label">{label}</div><div class="value">([^<]*)</div>', html)
    assert card is not None and card.group(1) == count
    assert tr("Flagged for review ({count})", lang, count=count) in html
    telecom = write_telecom(plan, tmp_path / "telecom.xlsx", lang)
    totals = dict(load_workbook(telecom)[gettext("Totals", lang)].iter_rows(values_only=True))
    assert totals[gettext("Flagged for review", lang)] == len(review)
    assert totals[gettext("Not connected", lang)] == plan.totals.flagged


def test_a_station_name_cannot_end_or_blank_the_map_data() -> None:
    """``<!--`` or ``</script>`` in a name keeps the embedded JSON valid (issue 15 item 11)."""
    plan, graph, _ = city_plan()
    hostile = "x</script><!--<script>alert(1)</script>&\u2028"
    first = dataclasses.replace(plan.stations[0], name=hostile, site="<!--")
    plan = dataclasses.replace(plan, stations=(first, *plan.stations[1:]))
    html = render_report(plan, graph, "en")
    data = script_json(html, "plan-data")
    assert data["stations"]["name"][0] == hostile  # type: ignore[index]
    assert data["stations"]["site"][0] == "<!--"  # type: ignore[index]
    body = html.split('id="plan-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in body and ">" not in body
