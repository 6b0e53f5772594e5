"""The site review's core: candidates within the radius (not the station's own building),
only cheaper ones kept (largest saving first), districts, cost classes, the distance to fibre,
the workbooks per education district and the layer on the plan's map."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from pollnet.model import Exchange, ExistingFiber
from pollnet.registry import Candidate, StationRecord
from pollnet.sites import SiteReview, fibre_distances, review_sites, write_district_books
from pollnet.sites.review import FloatArray
from pollnet.streets.projection import to_lonlat, to_xy

CRS = 32639  # UTM 39N, Tehran
ORIGIN = to_xy(51.40, 35.70, CRS)


def at(east_m: float, north_m: float = 0.0) -> tuple[float, float]:
    """(lat, lon) of a point ``east_m``/``north_m`` metres from the origin."""
    lon, lat = to_lonlat(ORIGIN[0] + east_m, ORIGIN[1] + north_m, CRS)
    return float(lat), float(lon)


def station(code: str, east_m: float, district: int | None = 1, voters: int = 500) -> StationRecord:
    lat, lon = at(east_m)
    return StationRecord(code, f"name {code}", f"school {code}", "", 1, district, lat, lon,
                         voters, 1, False)  # fmt: skip


def building(
    code: str, east_m: float, capacity: int | None = None, district: int | None = None
) -> Candidate:
    lat, lon = at(east_m)
    return Candidate(code, f"building {code}", lat, lon, capacity, district)


@dataclass(frozen=True)
class Priced:
    connect_rial: float
    saving_rial: float
    budget_ok: bool


@dataclass
class TablePricing:
    """Prices from tables: each station's marginal cost, each building's cost to connect
    (by its position east of the origin, whole metres), and every question asked."""

    marginal: Mapping[str, float]
    connect: Mapping[int, float]
    asked: list[tuple[str, int]]

    def marginal_rial(self) -> Mapping[str, float]:
        return self.marginal

    def price(self, station: str, lon: FloatArray, lat: FloatArray) -> Sequence[Priced]:
        east = np.rint(to_xy(lon, lat, CRS)[0] - ORIGIN[0]).astype(int).tolist()
        self.asked += [(station, e) for e in east]
        return [
            Priced(self.connect[e], self.marginal[station] - self.connect[e], True) for e in east
        ]


def test_only_cheaper_buildings_within_the_radius_are_kept_largest_saving_first() -> None:
    stations = [station("S1", 0.0), station("S2", 5000.0, district=2), station("S3", 10_000.0)]
    buildings = [
        building("SAME", 4.0),  # the station's own building
        building("NEAR", 200.0, capacity=800),
        building("NEARER", -100.0, capacity=300),
        building("DEAR", 300.0),  # costs more than the station
        building("FAR", 900.0),  # beyond the radius
        building("OTHER", 5100.0),
        building("NOT-MINE", 150.0, district=2),  # another education district's school
        building("MINE", 5150.0, district=2),
    ]
    pricing = TablePricing(
        {"S1": 100.0, "S2": 50.0},  # S3 is not connected
        {4: 1.0, 200: 40.0, -100: 70.0, 300: 150.0, 900: 1.0, 5100: 60.0, 150: 1.0, 5150: 45.0},
        [],
    )
    found = review_sites(stations, pricing, buildings, radius_m=500.0)
    s1, s2, s3 = found.stations
    assert [c.code for c in s1.cheaper] == ["NEAR", "NEARER"]
    assert [round(c.saving_rial) for c in s1.cheaper] == [60, 30]
    assert s1.cheaper[0].distance_m == pytest.approx(200.0, abs=0.5)
    assert s1.cheaper[0].holds(s1.voters) and not s1.cheaper[1].holds(s1.voters)
    assert [c.code for c in s2.cheaper] == ["MINE"]  # OTHER costs more than S2
    assert s3.marginal_rial is None and s3.cheaper == ()
    assert sorted(pricing.asked) == [
        ("S1", -100), ("S1", 200), ("S1", 300), ("S2", 5100), ("S2", 5150),
    ]  # fmt: skip
    assert found.saving_rial == 65.0
    assert list(found.by_education_district()) == [1, 2]
    as_json = json.loads(json.dumps(found.as_dict()))
    assert as_json["stations"][0]["cheaper"][1]["holds_voters"] is False
    assert as_json["stations"][2]["marginal_rial"] is None


def test_cost_classes_are_the_quartiles_and_districts_without_a_number_come_last() -> None:
    stations = [station(f"S{i}", 1000.0 * i, district=None if i == 0 else 3) for i in range(8)]
    pricing = TablePricing({s.code: float(i) for i, s in enumerate(stations)}, {}, [])
    found = review_sites(stations, pricing)
    assert found.cost_classes() == {f"S{i}": i // 2 for i in range(8)}
    assert list(found.by_education_district()) == [3, None]
    assert found.candidates == 0 and all(s.cheaper == () for s in found.stations)


def test_distance_to_the_fibre_is_to_the_nearest_line_or_exchange() -> None:
    stations = [station("S1", 0.0), station("S2", 3000.0)]
    a, b = at(-500.0, 120.0), at(500.0, 120.0)
    fibre = ExistingFiber("F1", ((a[1], a[0]), (b[1], b[0])))
    x = at(3050.0)
    exchange = Exchange("EX-1", "exchange", x[0], x[1], 16)
    found = fibre_distances(stations, [fibre], [exchange])
    assert found["S1"] == pytest.approx(120.0, abs=0.5)
    assert found["S2"] == pytest.approx(50.0, abs=0.5)
    assert fibre_distances(stations, [], []) == {}


def review_of_two_districts() -> SiteReview:
    stations = [station("S1", 0.0, district=4), station("S2", 5000.0, district=None)]
    pricing = TablePricing({"S1": 100e6, "S2": 20e6}, {150: 30e6}, [])
    return review_sites(
        stations, pricing, [building("SCH-9", 150.0, capacity=1200)],
        backups={"S1": "none", "S2": "good"}, fibre_m={"S1": 75.0, "S2": 10.0},
    )  # fmt: skip


def test_a_workbook_per_education_district_in_persian_right_to_left(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    written = write_district_books(review_of_two_districts(), tmp_path, "fa")
    assert written == {
        "4": tmp_path / "sites-review-4-fa.xlsx",
        "none": tmp_path / "sites-review-none-fa.xlsx",
    }
    book = load_workbook(written["4"])
    stations, cheaper = book.worksheets
    assert stations.sheet_view.rightToLeft and cheaper.sheet_view.rightToLeft
    rows = list(stations.iter_rows(values_only=True))
    assert rows[0][:3] == ("شعبه", "نام", "مدرسه")
    assert rows[1][0] == "S1" and rows[1][5] == 100_000_000 and rows[1][6] == "بدون پشتیبان"
    assert rows[1][7] == 75 and rows[1][8] == 1 and rows[1][9] == 70_000_000
    assert len(rows) == 2  # S2 is in the other district's book
    found = list(cheaper.iter_rows(values_only=True))
    assert found[1][:5] == ("S1", "SCH-9", "building SCH-9", 150, 1200)
    assert found[1][5] == "بله" and found[1][7] == 70_000_000
    english = write_district_books(review_of_two_districts(), tmp_path, "en")["none"]
    rows = list(load_workbook(english).worksheets[0].iter_rows(values_only=True))
    assert rows[0][:3] == ("station", "name", "school") and rows[1][6] == "good"


def test_the_review_as_a_layer_of_the_plans_map(tmp_path: Path) -> None:
    from pollnet.plan.report import SiteLayer, map_data, write_report
    from tests.plan._outputs import city_plan
    from tests.plan.test_report import open_report

    plan, graph, _ = city_plan()
    first, second = plan.stations[0], plan.stations[1]
    layer = SiteLayer(
        cost_class={first.code: 3, second.code: 0},
        marginal_rial={first.code: 90e6, second.code: 10e6},
        cheaper=[(first.code, "SCH-1", first.lon + 0.001, first.lat, 25e6)],
    )
    data = map_data(plan, graph, "en", layer)["review"]
    assert data["cls"][:2] == [3, 0] and set(data["cls"][2:]) == {-1}
    assert data["cheaper"]["station"] == [0] and data["cheaper"]["saving"] == [25_000_000]
    assert "review" not in map_data(plan, graph, "en")
    html = write_report(plan, tmp_path / "review.html", graph, "fa", layer)
    found = open_report(html, tmp_path / "map.png")
    assert found["errors"] == []
    assert found["drawn"] == len(plan.stations) and found["cheaper"] == 1
    assert found["selected"] == first.code and "SCH-1" in found["info"]
    assert "۹۰٫۰" in found["info"]  # the marginal cost, million rials, Persian digits
