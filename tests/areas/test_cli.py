"""``pollnet areas`` end to end on a real SQLite file, with stations and streets around it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pollnet.areas import AreaKind, links, load_areas, read_areas
from pollnet.cli import main
from pollnet.i18n import set_language
from pollnet.store import open_store
from pollnet.streets import load
from tests.areas.conftest import box, districts_file, feature, write_areas
from tests.registry.stationfiles import GOOD, write_csv
from tests.streets.conftest import write_osm_xml


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("POLLNET_CONFIG", raising=False)
    monkeypatch.delenv("POLLNET_LANG", raising=False)
    monkeypatch.setenv("POLLNET_DB", f"sqlite:///{tmp_path / 'data' / 'pollnet.db'}")
    yield tmp_path
    set_language("fa")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def url(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'data' / 'pollnet.db'}"


def test_import_list_show_export_the_real_counties(
    workdir: Path, counties: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_csv(workdir / "stations.csv")
    assert run(capsys, "stations", "import", "stations.csv")[0] == 0
    code, out, err = run(
        capsys, "--lang", "en", "areas", "import", str(counties), "--kind", "county"
    )
    assert code == 0, err
    assert out.splitlines() == [
        f"Read {counties}: 5 areas (county 5)",
        "Areas: 5 added, 0 changed, 0 unchanged.",
        "Stations by county (3/3): Tehran County: 3",
        "Stations by municipal_district (3/3): 6: 3",
        "No street cache yet: streets get their areas when they are imported.",
    ]
    code, out, _ = run(capsys, "areas", "import", str(counties), "--kind", "county", "--json")
    result = json.loads(out)
    assert (len(result["unchanged"]), result["added"], result["changed"]) == (5, [], [])
    assert result["stations"]["by_area"]["county"] == {"tehran-county": 3}

    code, out, _ = run(capsys, "areas", "list", "--json")
    listed = json.loads(out)
    assert [(a["code"], a["stations"]) for a in listed][:2] == [
        ("eslamshahr-county", 0),
        ("tehran-county", 3),
    ]
    code, out, _ = run(capsys, "areas", "show", "county", "Tehran", "--json")
    shown = json.loads(out)
    assert shown["osm_relation"] == 6554970 and shown["stations"] == ["T-001", "T-002", "T-003"]
    code, out, _ = run(capsys, "--lang", "fa", "areas", "show", "county", "شهرستان ری")
    assert code == 0 and "rey-county" in out and "۶۵۵۵۰۵۳" in out and "│ county" not in out
    code, _, err = run(capsys, "--lang", "en", "areas", "show", "county", "Isfahan")
    assert code == 1 and "no county named Isfahan (known: eslamshahr-county" in err

    for name in ("all.gpkg", "all.geojson"):
        code, out, _ = run(capsys, "areas", "export", name, "--json")
        assert json.loads(out) == {"file": name, "areas": 5}
        again = read_areas(workdir / name)
        assert [a.code for a in again] == [a.code for a in load_areas(open_store(url(workdir)))]


def test_a_bad_file_changes_nothing(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = districts_file(workdir / "districts.geojson")
    assert run(capsys, "areas", "import", str(good))[0] == 0
    bad = write_areas(
        workdir / "bad.geojson",
        [
            feature(box(51.0, 35.0, 51.1, 35.1), kind="municipal_district", number=9),
            feature(box(51.0, 35.0, 51.1, 35.1), kind="municipal_district", number="نه"),
        ],
    )
    code, out, err = run(capsys, "--lang", "en", "areas", "import", str(bad))
    assert code == 1 and out == ""
    assert err.splitlines() == [
        f"error: {bad}, feature 2, column number: a district must be a whole number, not نه"
    ]
    assert "Traceback" not in err
    stored = load_areas(open_store(url(workdir)))
    assert [a.code for a in stored.of_kind(AreaKind.MUNICIPAL_DISTRICT)] == ["6", "7"]
    code, _, err = run(capsys, "--lang", "en", "areas", "import", "missing.geojson")
    assert code == 1 and err.strip() == "error: missing.geojson: file not found"


def test_stations_get_areas_and_a_disagreement_names_the_row(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "areas", "import", str(districts_file(workdir / "d.geojson")))[0] == 0
    # T-003 (51.3912) lies in district 7's polygon, but its file says 6
    write_csv(workdir / "stations.csv", GOOD)
    code, out, err = run(capsys, "--lang", "en", "stations", "import", "stations.csv")
    assert code == 0
    assert "Stations by municipality (3/3): Tehran: 3" in out
    assert "Stations by education_district (3/3): 12: 3" in out
    assert err.strip().splitlines() == [
        "warning: stations.csv, row 3 (T-003): municipal_district 6 in the file, but it "
        "lies in the polygon of municipal_district 7; the file's value is kept"
    ]
    stored = links(open_store(url(workdir)))
    assert stored["T-003"] == {
        "municipal_district": "6",
        "education_district": "12",
        "municipality": "tehran",
    }


def test_streets_before_and_after_the_areas(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    osm = write_osm_xml(workdir / "tiny.osm")
    code, out, err = run(capsys, "--lang", "en", "streets", "import", str(osm))
    assert code == 0
    assert "No areas yet: the streets have no municipal district" in out and err == ""
    cache = workdir / "data" / "streets.npz"
    assert not load(cache).edge_district.any()

    # the areas arrive: the streets already imported get them
    code, out, err = run(
        capsys, "--lang", "en", "areas", "import", str(districts_file(workdir / "d.geojson"))
    )
    assert code == 0
    edges = load(cache).num_edges
    assert set(load(cache).edge_district.tolist()) == {7}
    assert f"Streets by municipal_district: District 7: {edges} streets (" in out
    assert f"Streets by municipality: Tehran: {edges} streets" in out
    assert f"street cache: {cache}" in out

    # streets imported after the areas get them at once; one area leaves part of them outside
    small = write_areas(
        workdir / "small.geojson",
        [feature(box(51.3995, 35.6975, 51.4015, 35.7015), kind="county", code="c1")],
    )
    run(capsys, "areas", "import", str(small))
    code, out, err = run(capsys, "--lang", "en", "streets", "import", str(osm), "--json")
    summary = json.loads(out)
    assert summary["areas"]["by_area"]["municipal_district"] == {
        "7": {"edges": edges, "km": pytest.approx(load(cache).edge_length_m.sum() / 1000, abs=1e-3)}
    }
    code, out, err = run(capsys, "--lang", "en", "streets", "import", str(osm))
    assert "Streets by county: c1: " in out
    code, out, err = run(capsys, "--lang", "en", "areas", "import", str(small), "--kind", "county")
    assert err == ""  # every street lies in district 7 or Tehran: none outside every area


def test_streets_outside_every_area_are_flagged(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    osm = write_osm_xml(workdir / "tiny.osm")
    small = write_areas(
        workdir / "small.geojson",
        [feature(box(51.3995, 35.6975, 51.4015, 35.7015), kind="county", code="c1")],
    )
    run(capsys, "areas", "import", str(small))
    code, _, err = run(capsys, "--lang", "en", "streets", "import", str(osm))
    assert code == 0
    assert (
        "streets (" in err and "lie outside every area; their work orders take the district" in err
    )
    code, _out, err = run(capsys, "--lang", "fa", "streets", "import", str(osm))
    assert "هشدار" in err and "Traceback" not in err
