"""The area options of work list/export, stations list, readiness, coverage and report weekly,
on a planned synthetic city whose stations went through the registry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pollnet.datasets.synth import generate as synthetic_city
from pollnet.datasets.synth import write
from pollnet.i18n import set_language
from pollnet.plan import plan_city
from pollnet.plan.store import save_plan
from pollnet.registry import list_stations
from pollnet.store import open_store
from tests.areas.conftest import box, feature, write_areas
from tests.areas.test_cli import run


@pytest.fixture(scope="module")
def city_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A planned city of 60 stations, areas over its two halves, work orders generated."""
    folder = tmp_path_factory.mktemp("filters")
    url = f"sqlite:///{folder / 'p.db'}"
    mp = pytest.MonkeyPatch()
    mp.chdir(folder)
    mp.setenv("POLLNET_DB", url)
    mp.setenv("POLLNET_USER", "coordinator")
    mp.delenv("POLLNET_CONFIG", raising=False)
    mp.delenv("POLLNET_LANG", raising=False)
    city = synthetic_city(60, 1)
    write(city, folder / "city")
    engine = open_store(url)
    from pollnet.cli import main

    with pytest.raises(SystemExit):
        main(["stations", "import", str(folder / "city" / "stations.csv")])
    from pollnet.datasets._store import load_into

    load_into(engine, city)
    save_plan(engine, plan_city(city))
    lons = sorted(s.lon for s in city.stations)
    mid = (lons[29] + lons[30]) / 2
    write_areas(
        folder / "areas.geojson",
        [
            feature(box(50.0, 35.0, 53.0, 36.5), kind="county", code="c", name_en="C County"),
            feature(box(50.0, 35.0, mid, 36.5), kind="municipality", code="west", name_en="West"),
            feature(box(mid, 35.0, 53.0, 36.5), kind="municipality", code="east", name_en="East"),
        ],
    )
    with pytest.raises(SystemExit):
        main(["areas", "import", str(folder / "areas.geojson")])
    with pytest.raises(SystemExit):
        main(["work", "generate", "--today", "2026-11-01"])
    yield folder
    mp.undo()
    set_language("fa")


def test_work_and_stations_by_area(city_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "work", "list", "--json")
    everything = json.loads(out)
    assert {r["county"] for r in everything} == {"c"}
    assert min(r["district"] for r in everything) >= 1
    code, out, _ = run(capsys, "work", "list", "--municipality", "West", "--json")
    west = json.loads(out)
    assert 0 < len(west) < len(everything) and {r["municipality"] for r in west} == {"west"}
    permits = [r for r in west if r["kind"] == "permit"]
    assert permits and all(r["scope"] == "west" for r in permits)

    code, out, _ = run(capsys, "stations", "list", "--municipality", "east", "--json")
    east = json.loads(out)
    assert len(east) == 30
    code, out, _ = run(capsys, "stations", "list", "--county", "C County", "--json")
    assert len(json.loads(out)) == 60
    code, out, _ = run(capsys, "coverage", "--municipality", "east", "--json")
    assert json.loads(out)["stations"] == 30

    code, _, err = run(capsys, "--lang", "en", "work", "list", "--municipality", "north")
    assert code == 1 and err.strip() == ("error: no municipality named north (known: west, east)")


def test_the_education_sheet_names_the_school(
    city_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = run(
        capsys, "--lang", "en", "work", "export", "--agency", "education",
        "--municipality", "west",
    )  # fmt: skip
    assert code == 0
    path = city_dir / "work-orders-education-west.xlsx"
    sheet = load_workbook(path).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    engine = open_store(f"sqlite:///{city_dir / 'p.db'}")
    sites = {r.code: r for r in list_stations(engine)}
    assert rows
    for row in rows:
        code_ = str(row[0]).removeprefix("ST-").removesuffix("-ACCESS")
        record = sites[code_]
        assert row[2] == f"{code_} — {record.site}, {record.address}"


def test_readiness_and_weekly_report_by_area(
    city_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "readiness", "--today", "2026-11-01", "--json")
    total = sum(d["stations"] for d in json.loads(out)["districts"])
    code, out, _ = run(
        capsys, "readiness", "--municipality", "west", "--today", "2026-11-01", "--json"
    )
    assert code == 0
    west = sum(d["stations"] for d in json.loads(out)["districts"])
    assert 0 < west < total
    code, out, _ = run(
        capsys, "--lang", "en", "report", "weekly", "--municipality", "west", "--today",
        "2026-11-01", "--out", "reports",
    )  # fmt: skip
    assert code == 0
    assert (city_dir / "reports" / "weekly-2026-11-01-west.html").is_file()
