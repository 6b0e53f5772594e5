"""``pollnet sites review`` on the demo: priced on the plan with plan.whatif, an XLSX per
education district, the map, JSON; bad input (an unknown district, bad candidate rows, no plan)
is one line per problem, exit 1, nothing written."""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pollnet.cli import cli
from pollnet.errors import UserError
from pollnet.plan import latest_plan_id
from pollnet.store import open_store
from pollnet.streets.projection import geodesic_m


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A planned demo whose stations carry education districts 1 (municipal districts up to
    10) and 2 (the others)."""
    folder = tmp_path_factory.mktemp("sites") / "demo"
    runner = CliRunner()
    made = runner.invoke(cli, ["--lang", "en", "demo", "--out", str(folder), "--stations", "300"])
    assert made.exit_code == 0, made.output
    with (folder / "data" / "stations.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        row["education_district"] = "1" if int(row["district"]) <= 10 else "2"
    with (folder / "stations-ed.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    url = f"sqlite:///{folder / 'pollnet.db'}"
    done = runner.invoke(cli, ["--db", url, "stations", "import", str(folder / "stations-ed.csv")])
    assert done.exit_code == 0, done.output
    # Candidates: other stations' schools 20 to 400 m from a station (already on the network).
    places = {(r["lat"], r["lon"]): r for r in rows}
    with (folder / "schools.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["code", "name", "lat", "lon", "capacity"])
        for i, (lat, lon) in enumerate(places):
            writer.writerow([f"SCH-{i}", places[lat, lon]["site"], lat, lon, 400 + 10 * i])
    return folder


def run(demo: Path, *args: str) -> tuple[int, str, BaseException | None]:
    url = f"sqlite:///{demo / 'pollnet.db'}"
    done = CliRunner().invoke(cli, ["--db", url, "--lang", "en", "sites", "review", *args])
    return done.exit_code, done.output, done.exception


def test_review_prices_cheaper_buildings_and_writes_books_and_map(demo: Path) -> None:
    out, page = demo / "review", demo / "review" / "map.html"
    code, output, _ = run(
        demo, "--candidates", str(demo / "schools.csv"), "--radius", "400", "--out", str(out),
        "--map", str(page), "--json",
    )  # fmt: skip
    assert code == 0, output
    found = json.loads(output)
    stations = found["stations"]
    assert len(stations) == 300 and found["radius_m"] == 400
    assert {s["education_district"] for s in stations} == {1, 2}
    assert all(s["marginal_rial"] > 0 for s in stations if s["marginal_rial"] is not None)
    assert {s["backup"] for s in stations} <= {"good", "usable", "none"}
    assert all(s["fibre_m"] >= 0 for s in stations)
    cheaper = [(s, c) for s in stations for c in s["cheaper"]]
    assert cheaper, "a school already on the network is cheaper for some station"
    for s, c in cheaper:
        assert c["saving_rial"] > 0
        # the saving is the first route's marginal cost minus the cost to connect
        assert c["saving_rial"] + c["connect_rial"] <= s["marginal_rial"] + 1
        distance = float(geodesic_m(s["lon"], s["lat"], c["lon"], c["lat"]))
        assert 10 <= c["distance_m"] <= 400 and math.isclose(c["distance_m"], distance, abs_tol=2)
        assert c["holds_voters"] == (c["capacity"] >= s["voters"])
    assert sorted(found["files"]) == ["map", "xlsx:1", "xlsx:2"]
    assert (out / "sites-review-1-en.xlsx").is_file() and (out / "sites-review-2-en.xlsx").is_file()
    html = page.read_text(encoding="utf-8")
    assert '"review":{"cls":' in html and cheaper[0][1]["code"] in html


def test_one_education_district_in_persian(demo: Path) -> None:
    url = f"sqlite:///{demo / 'pollnet.db'}"
    done = CliRunner().invoke(
        cli,
        ["--db", url, "--lang", "fa", "sites", "review", "--education-district", "2",
         "--candidates", str(demo / "schools.csv"), "--out", str(demo / "review-fa")],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert lines[0].startswith("بررسی محل ") and "شعاع ۵۰۰ متر" in lines[0]
    assert lines[1].startswith("ناحیه آموزش و پرورش ۲: ")
    assert "ناحیه آموزش و پرورش ۱" not in done.output
    book = demo / "review-fa" / "sites-review-2-fa.xlsx"
    assert lines[-2] == f"کارپوشهٔ ناحیه آموزش و پرورش ۲: {book}"
    # priced on the plan pollnet plan stored (its design state kept with it), and named
    assert lines[-1] == f"بر پایهٔ طرح ذخیره‌شدهٔ {latest_plan_id(open_store(url))}"


def test_a_registry_changed_since_the_plan_is_designed_again(demo: Path, tmp_path: Path) -> None:
    """The stored plan no longer fits once a station has moved: the review says so on standard
    error and prices the registry designed again (plan_id null)."""
    folder = tmp_path / "demo"
    shutil.copytree(demo, folder)
    url = f"sqlite:///{folder / 'pollnet.db'}"
    with (folder / "stations-ed.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows[0]["lat"] = f"{float(rows[0]['lat']) + 0.001:.6f}"
    with (folder / "moved.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    runner = CliRunner()
    done = runner.invoke(cli, ["--db", url, "stations", "import", str(folder / "moved.csv")])
    assert done.exit_code == 0, done.output
    review = ["--db", url, "--lang", "en", "sites", "review", "--candidates"]
    done = runner.invoke(cli, [*review, str(folder / "schools.csv"), "--json"])
    assert done.exit_code == 0, done.output
    assert done.stderr.startswith("no stored plan was made from this registry"), done.stderr
    assert json.loads(done.stdout)["plan_id"] is None
    original = ["--db", f"sqlite:///{demo / 'pollnet.db'}", *review[2:]]
    fresh = runner.invoke(cli, [*original, str(demo / "schools.csv"), "--json"])
    assert fresh.stderr == "" and json.loads(fresh.stdout)["plan_id"] is not None


def test_bad_input_is_one_line_per_problem_and_nothing_is_written(demo: Path) -> None:
    out = demo / "not-written"
    code, _, error = run(demo, "--education-district", "9", "--out", str(out))
    assert code == 1 and isinstance(error, UserError)
    assert error.render("en") == ["no station of the registry is in education district 9"]
    bad = demo / "bad-schools.csv"
    bad.write_text("code,lat,lon,capacity\nA,35.7,51.4,many\nA,35.7,,\n", "utf-8")
    code, _, error = run(demo, "--candidates", str(bad), "--out", str(out))
    assert code == 1 and isinstance(error, UserError)
    assert error.render("en") == [
        f"{bad}, row 1, column capacity: not a whole number: many",
        f"{bad}, row 1, column code: duplicate code A, also in row 2",
        f"{bad}, row 2, column lon: a value is required",
        f"{bad}, row 2, column code: duplicate code A, also in row 1",
    ]
    assert not out.exists()


def test_no_plan_yet(tmp_path: Path, demo: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    runner = CliRunner()
    done = runner.invoke(cli, ["--db", url, "stations", "import", str(demo / "stations-ed.csv")])
    assert done.exit_code == 0, done.output
    done = runner.invoke(cli, ["--db", url, "--lang", "en", "sites", "review"])
    assert done.exit_code == 1 and isinstance(done.exception, UserError)
    assert done.exception.render("en") == ["no plan yet: run pollnet plan first"]


def test_schools_from_openstreetmap_are_priced_as_the_same_schools_from_a_list(
    demo: Path,
) -> None:
    """The demo's schools as OpenStreetMap nodes (``--candidates schools.osm``) get the same
    savings as the same schools from the candidates list."""
    with (demo / "schools.csv").open(encoding="utf-8") as fh:
        schools = list(csv.DictReader(fh))
    nodes = "\n".join(
        f'<node id="{i + 1}" version="1" lat="{s["lat"]}" lon="{s["lon"]}">'
        f'<tag k="amenity" v="school"/><tag k="name" v="{s["name"]}"/>'
        f'<tag k="capacity" v="{s["capacity"]}"/></node>'
        for i, s in enumerate(schools)
    )
    osm = demo / "schools.osm"
    osm.write_text(f'<?xml version="1.0"?>\n<osm version="0.6">\n{nodes}\n</osm>\n', "utf-8")
    listed = json.loads(run(demo, "--candidates", str(demo / "schools.csv"), "--json")[1])
    code, output, _ = run(demo, "--candidates", str(osm), "--json")
    assert code == 0, output
    mapped = json.loads(output)
    assert mapped["candidates"] == listed["candidates"] == len(schools)

    def cheaper(found: dict[str, Any], code_of: dict[str, str]) -> list[tuple[Any, ...]]:
        return [
            (s["code"], code_of[c["code"]], c["name"], c["capacity"], round(c["saving_rial"]))
            for s in found["stations"]
            for c in s["cheaper"]
        ]

    same = {s["code"]: s["code"] for s in schools}
    by_node = {f"osm-n{i + 1}": s["code"] for i, s in enumerate(schools)}
    assert cheaper(listed, same)
    assert cheaper(mapped, by_node) == cheaper(listed, same)


def test_education_district_from_the_area_polygons_as_other_commands_have_it(
    demo: Path, tmp_path: Path
) -> None:
    """A station whose file gives no education district gets the polygon's (as work orders
    and ``stations list`` have it); ``--education-district`` takes a number or an area's name."""
    for name in ("pollnet.db", "streets.npz"):
        shutil.copy(demo / name, tmp_path / name)
    url = f"sqlite:///{tmp_path / 'pollnet.db'}"
    with (demo / "stations-ed.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:  # the file gives districts 6 and up their education district only
        if int(row["district"]) <= 5:
            row["education_district"] = ""
    with (tmp_path / "stations.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    lats, lons = [float(r["lat"]) for r in rows], [float(r["lon"]) for r in rows]
    west, east = min(lons) - 0.01, max(lons) + 0.01
    south, north = min(lats) - 0.01, max(lats) + 0.01
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    area = {
        "type": "Feature",
        "properties": {"kind": "education_district", "number": 7, "name_en": "Shemiran Education"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }
    (tmp_path / "areas.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": [area]}), "utf-8"
    )
    runner = CliRunner()
    for args in (["stations", "import", str(tmp_path / "stations.csv")],
                 ["areas", "import", str(tmp_path / "areas.geojson")]):  # fmt: skip
        done = runner.invoke(cli, ["--db", url, *args])
        assert done.exit_code == 0, done.output
    polygon = {r["code"] for r in rows if not r["education_district"]}
    listed = runner.invoke(
        cli, ["--db", url, "stations", "list", "--education-district", "7", "--json"]
    )
    assert {s["code"] for s in json.loads(listed.output)} == polygon

    def review(*args: str) -> dict[str, Any]:
        done = runner.invoke(cli, ["--db", url, "--lang", "en", "sites", "review", *args])
        assert done.exit_code == 0, done.output
        found: dict[str, Any] = json.loads(done.output)
        return found

    found = review("--education-district", "Shemiran", "--json")
    assert {s["code"] for s in found["stations"]} == polygon
    assert {s["education_district"] for s in found["stations"]} == {7}
    everyone = review("--json")
    assert {s["education_district"] for s in everyone["stations"]} == {1, 2, 7}
    assert sum(s["education_district"] == 7 for s in everyone["stations"]) == len(polygon)
    done = runner.invoke(
        cli, ["--db", url, "--lang", "en", "sites", "review", "--education-district", "Karaj"]
    )
    assert done.exit_code == 1 and isinstance(done.exception, UserError)
    assert done.exception.render("en") == ["no education_district named Karaj (known: 7)"]
