"""``pollnet sites candidates --osm FILE --out FILE``: an OpenStreetMap file's schools inside the
area as an editable candidates file, each with the education district whose polygon holds it;
bad OpenStreetMap input is one line, exit 1, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pollnet.cli import cli
from pollnet.errors import UserError
from pollnet.registry import Candidate, read_candidates
from pollnet.settings import TEHRAN_BBOX


def _school(osm_id: int, lat: float, lon: float, tags: str) -> str:
    return (
        f'<node id="{osm_id}" version="1" lat="{lat}" lon="{lon}">'
        f'<tag k="amenity" v="school"/>{tags}</node>'
    )


def _areas(path: Path) -> Path:
    """Education districts 1 (west of 51.40) and 2 (east of it), between 35.60 and 35.80."""

    def box(number: int, west: float, east: float) -> dict[str, object]:
        ring = [[west, 35.6], [east, 35.6], [east, 35.8], [west, 35.8], [west, 35.6]]
        return {
            "type": "Feature",
            "properties": {"kind": "education_district", "number": number},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }

    features = [box(1, 51.30, 51.40), box(2, 51.40, 51.50)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return path


def test_schools_with_their_education_districts(tmp_path: Path) -> None:
    osm = tmp_path / "tehran.osm"
    osm.write_text(
        '<?xml version="1.0"?>\n<osm version="0.6">\n'
        + _school(1, 35.70, 51.35, '<tag k="name:fa" v="دبستان یک"/><tag k="capacity" v="600"/>')
        + _school(2, 35.70, 51.45, '<tag k="name" v="Two"/>')
        + _school(3, 35.90, 51.45, "")  # inside Tehran's box, in no education district
        + _school(4, 38.00, 46.30, '<tag k="name" v="Tabriz"/>')  # outside the area
        + "\n</osm>\n",
        "utf-8",
    )
    url = f"sqlite:///{tmp_path / 'p.db'}"
    runner = CliRunner()
    done = runner.invoke(cli, ["--db", url, "areas", "import", str(_areas(tmp_path / "a.json"))])
    assert done.exit_code == 0, done.output
    out = tmp_path / "schools.xlsx"
    base = ["--db", url, "--lang", "en", "sites", "candidates", "--osm", str(osm)]
    done = runner.invoke(cli, [*base, "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert done.output.splitlines() == [
        "Read tehran.osm: 3 buildings tagged amenity=school inside the area (4 nodes, 0 ways, "
        "0 multipolygons read); 1 outside the area left out",
        "1 with a capacity in OpenStreetMap; the other 2 have none: their capacity is left "
        "empty (not guessed), fill it in",
        "1 without a name in OpenStreetMap",
        "By education district (from the area polygons): 1: 1, 2: 1; 1 in none",
        f"candidates written to {out}",
    ]
    assert read_candidates(out, TEHRAN_BBOX) == (
        Candidate("osm-n1", "دبستان یک", 35.70, 51.35, 600, 1),
        Candidate("osm-n2", "Two", 35.70, 51.45, None, 2),
        Candidate("osm-n3", "", 35.90, 51.45, None, None),
    )
    persian = runner.invoke(
        cli, ["--db", url, "--lang", "fa", *base[4:], "--out", str(tmp_path / "s.csv")]
    )
    assert persian.exit_code == 0, persian.output
    assert "۳ ساختمان با برچسب amenity=school درون محدوده" in persian.output
    header = (tmp_path / "s.csv").read_text("utf-8-sig").splitlines()[0]
    assert header == "کد ساختمان,نام,عرض جغرافیایی,طول جغرافیایی,ظرفیت,ناحیه آموزش و پرورش"
    as_json = json.loads(runner.invoke(cli, [*base, "--out", str(out), "--json"]).output)
    assert as_json["candidates"] == 3 and as_json["education_districts"] == {"1": 1, "2": 1}
    assert (as_json["outside"], as_json["with_capacity"]) == (1, 1)


def test_bad_osm_input_is_one_line_and_nothing_is_written(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    out = tmp_path / "schools.csv"
    bad = tmp_path / "schools.osm.pbf"
    bad.write_text("code,lat,lon\n", "utf-8")
    empty = tmp_path / "cafes.osm"
    empty.write_text('<osm version="0.6"></osm>', "utf-8")
    for osm, message in (
        (bad, "cannot read this OpenStreetMap file"),
        (empty, "no building tagged amenity=school inside the area"),
    ):
        done = CliRunner().invoke(
            cli,
            ["--db", url, "--lang", "en", "sites", "candidates", "--osm", str(osm), "--out",
             str(out)],
        )  # fmt: skip
        assert done.exit_code == 1 and isinstance(done.exception, UserError)
        (line,) = done.exception.render("en")
        assert line.startswith(f"{osm}: {message}")
        assert not out.exists()
