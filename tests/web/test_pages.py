"""The pages' data: the basemap's tiles from pollnet's own streets, areas and schools; the plan
and coverage layers; the weekly report as written; a station's page."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

from pollnet.registry import list_stations
from pollnet.store import open_store
from pollnet.web.basemap import tile_bounds
from tests.web.world import client, copy, heartbeats, sign_in


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    r = math.radians(lat)
    return int((lon + 180) / 360 * n), int(
        (1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n
    )


def test_basemap_tiles(world: Path, tmp_path: Path) -> None:
    url = copy(world, tmp_path)
    station = list_stations(open_store(url))[0]
    browser = client(url, tmp_path)
    sign_in(browser, "observer")
    x, y = tile_of(station.lon, station.lat, 16)
    near = browser.get(f"/api/basemap/16/{x}/{y}")
    assert near.headers["content-type"] == "application/geo+json"
    kinds = {f["properties"]["kind"] for f in near.json()["features"]}
    assert {"street", "school"} <= kinds
    names = {f["properties"].get("name") for f in near.json()["features"]}
    assert station.site in names
    west, south, east, north = tile_bounds(16, x, y)
    assert west <= station.lon <= east and south <= station.lat <= north
    for feature in near.json()["features"]:
        if feature["geometry"]["type"] == "MultiLineString":
            for line in feature["geometry"]["coordinates"]:
                for lon, lat in line:  # clipped to the tile (and a 2% margin)
                    assert west - 0.03 * (east - west) <= lon <= east + 0.03 * (east - west)
                    assert south - 0.03 * (north - south) <= lat <= north + 0.03 * (north - south)
    far = browser.get(f"/api/basemap/11/{x >> 5}/{y >> 5}").json()
    assert {f["properties"]["kind"] for f in far["features"]} <= {"major", "county",
            "municipality", "education_district", "municipal_district"}  # fmt: skip
    assert browser.get("/api/basemap/3/9/0").status_code == 404


def test_plan_layers_and_reports(world: Path, tmp_path: Path) -> None:
    url = copy(world, tmp_path)
    browser = client(url, tmp_path)
    sign_in(browser, "west")
    layers = browser.get("/api/plan").json()
    methods = {f["properties"]["method"] for f in layers["trenches"]["features"]}
    assert layers["plan_id"] and methods and methods <= {
        "open_trench", "micro_trench", "existing_duct", "aerial", "existing_fiber", "drop"
    }  # fmt: skip
    assert layers["towers"] and isinstance(layers["no_lte"], list)
    needing = {s["code"] for s in layers["no_lte"]}
    assert {s["code"] for c in layers["cells"] for s in c["stations"]} <= needing
    report = browser.get("/reports/weekly?lang=en")
    assert report.status_code == 200
    assert report.headers["content-security-policy"].startswith("default-src 'none'")
    assert "<svg" in report.text  # the forecast chart, as pollnet report weekly writes it
    page = browser.get("/reports").text
    assert '<iframe src="/reports/weekly"' in page


def test_the_maps_temporary_cells_cover_the_stations_without_backup() -> None:
    from pollnet.coverage import RadioSettings, lte_backup
    from pollnet.coverage.cells import CellSettings, plan_cells
    from pollnet.web.plans import temporary_cells
    from tests.coverage.test_backup import station, tower

    stations = [station("S0", 0.0), station("S1", 150.0), station("S2", 9000.0)]
    towers = [tower("A", "MCI", 0.0, 200_000.0), tower("B", "Irancell", 9000.0, 300.0)]
    radio = RadioSettings()
    backups = lte_backup(stations, towers, radio)
    assert [b.status for b in backups][:2] == ["none", "none"]
    state: dict[str, object] = {}
    cell = CellSettings()
    cells = temporary_cells(state, stations, backups, towers, radio, cell)
    chosen = plan_cells(stations, backups, towers, radio, cell)
    assert [(c["operator"], c["code"]) for c in cells] == [
        (p.operator, s.code) for p in chosen for s in p.sites
    ]
    mci = [c for c in cells if c["operator"] == "MCI"]
    assert sorted(s["code"] for c in mci for s in c["stations"]) == ["S0", "S1"]
    assert mci[0]["stations"][0]["lat"] == stations[0].lat
    kept = state["cells"]
    assert temporary_cells(state, stations, backups, towers, radio, cell) == cells
    assert state["cells"] is kept  # not chosen again
    assert temporary_cells(state, stations, backups, towers[1:], radio, cell) != cells
    # A taller, stronger cell (the [cells] settings) is a new choice, not the kept one.
    taller = CellSettings(height_m=40.0, tx_power_dbm=49.0)
    temporary_cells(state, stations, backups, towers, radio, taller)
    assert state["cells"] is not kept


def test_station_page(world: Path, tmp_path: Path) -> None:
    url = copy(world, tmp_path)
    heartbeats(url, dt.datetime.now(dt.UTC))
    station = list_stations(open_store(url))[1]
    browser = client(url, tmp_path)
    sign_in(browser, "telecom")
    page = browser.get(f"/stations/{station.code}?lang=en").text
    assert f'data-code="{station.code}"' in page and station.site in page
    assert page.count("<tr><td><bdi>" + station.code + "-") >= station.devices  # its devices
    assert f"ST-{station.code}-ONT" in page  # the telecom company's work at this station
    assert f"ST-{station.code}-ACCESS" not in page  # not an education district's
    assert '"route":{"type":"FeatureCollection"' in page
    assert browser.get("/stations/NOPE-1").status_code == 404
