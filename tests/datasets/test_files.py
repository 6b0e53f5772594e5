"""The files of a synthetic city: readable, in the importers' formats, and a faithful cache."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from pollnet.datasets import HIGHWAY_CLASSES, SyntheticCity, read, write
from pollnet.errors import UserError
from pollnet.registry import Rules, read_table, validate
from pollnet.settings import TEHRAN_BBOX


@pytest.fixture(scope="module")
def folder(city: SyntheticCity, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("city")
    write(city, out)
    return out


def test_the_cache_reads_back_identical(city: SyntheticCity, folder: Path) -> None:
    again = read(folder)
    assert again.equals(city)
    assert again.stations == city.stations and again.towers == city.towers
    assert read(folder / "city.npz").existing_fiber == city.existing_fiber


def test_a_broken_cache_is_a_user_error(tmp_path: Path) -> None:
    bad = tmp_path / "city.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(UserError, match="cannot read the city cache"):
        read(bad)


@pytest.mark.parametrize("name", ["stations.csv", "stations-fa.csv"])
def test_the_registry_accepts_both_station_files(
    city: SyntheticCity, folder: Path, name: str
) -> None:
    validation = validate(read_table(folder / name), Rules(TEHRAN_BBOX))
    assert validation.rejected == ()
    assert [r.station for r in validation.records] == list(city.stations)


def test_station_files_have_the_documented_headers(folder: Path) -> None:
    english = (folder / "stations.csv").read_text(encoding="utf-8").splitlines()[0]
    assert english == "code,name,site,address,district,lat,lon,voters,devices,critical"
    raw = (folder / "stations-fa.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Persian Excel expects
    header = raw.decode("utf-8-sig").splitlines()[0].split(",")
    assert header[0] == "کد شعبه" and header[-1] == "حساس"
    row = next(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert row["نام شعبه"] == "شعبه ۱" and row["حساس"] in ("بله", "خیر")


def test_streets_geojson_rebuilds_the_same_graph(city: SyntheticCity, folder: Path) -> None:
    data = json.loads((folder / "streets.geojson").read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    node_at = {
        (round(a, 7), round(b, 7)): k
        for k, (a, b) in enumerate(zip(city.node_lon.tolist(), city.node_lat.tolist(), strict=True))
    }
    pairs: dict[tuple[int, int], dict[str, object]] = {}
    for feature in data["features"]:
        assert feature["geometry"]["type"] == "LineString"
        props = feature["properties"]
        assert set(props) == {"highway", "name", "name:en", "district"}
        nodes = [node_at[tuple(c)] for c in feature["geometry"]["coordinates"]]
        for a, b in itertools.pairwise(nodes):
            pairs[(min(a, b), max(a, b))] = props
    assert len(pairs) == city.edge_count
    highway, name_en = city.edge_highway, city.edge_name_en
    for k in range(0, city.edge_count, 97):
        a, b = int(city.edge_u[k]), int(city.edge_v[k])
        props = pairs[(min(a, b), max(a, b))]
        assert props["highway"] == highway[k] and props["name:en"] == name_en[k]
        assert props["district"] == city.edge_district[k]
    # Streets come as stretches, not one feature per edge.
    assert len(data["features"]) < city.edge_count / 2
    assert {f["properties"]["highway"] for f in data["features"]} == set(HIGHWAY_CLASSES)


def test_exchanges_towers_and_fiber_files(city: SyntheticCity, folder: Path) -> None:
    with (folder / "exchanges.csv").open(encoding="utf-8", newline="") as fh:
        exchanges = list(csv.DictReader(fh))
    assert [e["code"] for e in exchanges] == [e.code for e in city.exchanges]
    assert [int(e["pon_ports"]) for e in exchanges] == [e.pon_ports for e in city.exchanges]
    with (folder / "towers.csv").open(encoding="utf-8", newline="") as fh:
        towers = list(csv.DictReader(fh))
    assert [(t["operator"], t["radio"], float(t["lat"])) for t in towers] == [
        (t.operator, t.radio.value, t.lat) for t in city.towers
    ]
    fiber = json.loads((folder / "existing_fiber.geojson").read_text(encoding="utf-8"))
    lines = [np.array(f["geometry"]["coordinates"]) for f in fiber["features"]]
    assert [len(line) for line in lines] == [len(f.coords) for f in city.existing_fiber]
    assert fiber["features"][0]["properties"] == {"code": "FIB-01", "owner": "telecom"}


def test_the_street_importer_reads_the_city_and_its_geojson(
    city: SyntheticCity, folder: Path
) -> None:
    from pollnet.streets import from_city, read_geojson

    graph = from_city(city, classes=None)
    assert (graph.num_nodes, graph.num_edges) == (city.node_count, city.edge_count)
    assert list(graph.edge_class_name) == city.edge_highway.tolist()
    from_file = read_geojson(folder / "streets.geojson", classes=set(HIGHWAY_CLASSES))
    summary = from_file.summary()
    assert summary["districts"] == 22
    # The importer measures on the ground, the city on the UTM grid (scale 0.9996).
    assert summary["length_km"] == pytest.approx(city.edge_length_m.sum() / 1000, rel=1e-3)
