"""Per-agency XLSX work lists: headers in both languages, right-to-left Persian, totals."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from pollnet.i18n import gettext, tr
from pollnet.plan.worklists import AGENCIES, restoration_rial, write_worklists
from tests.plan._outputs import FAR_CODE, city_plan

PERSIAN = re.compile("[\u0600-\u06ff]")


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    plan, _, stations = city_plan()
    folder = tmp_path_factory.mktemp("worklists")
    return {lang: write_worklists(plan, folder, lang, stations) for lang in ("fa", "en")}


def sheet(path: Path, title: str, lang: str) -> list[tuple[Any, ...]]:
    wb = load_workbook(path)
    ws = wb[gettext(title, lang)]
    assert bool(ws.sheet_view.rightToLeft) is (lang == "fa")
    return list(ws.iter_rows(values_only=True))


def test_files_per_agency_and_language(books: dict[str, dict[str, Path]]) -> None:
    for lang, files in books.items():
        assert list(files) == list(AGENCIES)
        for agency, path in files.items():
            assert path.name == f"{agency}-{lang}.xlsx" and path.stat().st_size > 0


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_headers_in_the_language_and_right_to_left_in_persian(
    books: dict[str, dict[str, Path]], lang: str
) -> None:
    expected = {
        ("municipality", "Street works"): ["municipal district", "street", "method", "length (m)"],
        ("telecom", "Bill of materials"): [
            "item",
            "quantity",
            "total (rials)",
            "total (US dollars)",
        ],
        ("telecom", "Cable runs"): ["cable run", "cores", "stations downstream"],
        ("education", "Schools"): ["school", "ONTs", "devices", "power outlets"],
    }
    for (agency, title), headers in expected.items():
        wb = load_workbook(books[lang][agency])
        for ws in wb.worksheets:
            assert bool(ws.sheet_view.rightToLeft) is (lang == "fa"), ws.title
        header = sheet(books[lang][agency], title, lang)[0]
        for msgid in headers:
            assert gettext(msgid, lang) in header
        if lang == "fa":
            assert all(PERSIAN.search(str(h)) for h in header if h not in ("ONTs",)), header
        else:
            assert not any(PERSIAN.search(str(h)) for h in header)


def test_municipality_totals_match_the_plan(books: dict[str, dict[str, Path]]) -> None:
    plan, _, _ = city_plan()
    works = [t for t in plan.trenches if t.method not in ("existing_fiber", "drop")]
    rows = sheet(books["en"]["municipality"], "Street works", "en")
    header, body, total = rows[0], rows[1:-1], rows[-1]
    col = {name: header.index(name) for name in header}
    assert total[col["street"]] == "total"
    assert total[col["length (m)"]] == pytest.approx(sum(t.length_m for t in works), abs=0.1)
    assert total[col["cost (rials)"]] == pytest.approx(sum(t.cost_rial for t in works), abs=1)
    # Snapping splits street segments where stations attach: pieces of one count once, and a
    # segment dug needs one permit however many of its pieces are dug.
    streets = {
        (t.district, t.street_name, t.street_class, t.method, t.street_segment) for t in works
    }
    dug = {t.street_segment for t in works if t.method in ("open_trench", "micro_trench")}
    assert len(streets) < len(works)  # the city's plan digs split segments
    assert total[col["segments"]] == len(streets)
    assert total[col["permits"]] == len(dug)
    restoration = sum(restoration_rial(t, plan.cost_model) for t in works)
    assert total[col["restoration (rials)"]] == pytest.approx(restoration, abs=1)
    assert restoration > 0 or not any(t.method == "open_trench" for t in works)
    detail = [r for r in body if not str(r[col["street"]]).startswith("total")]
    subtotals = [r for r in body if str(r[col["street"]]).startswith("total of district")]
    assert sum(r[col["segments"]] for r in detail) == len(streets)
    assert sum(r[col["length (m)"]] for r in subtotals) == pytest.approx(
        total[col["length (m)"]], abs=0.5
    )
    districts = [r[col["municipal district"]] for r in detail]
    assert districts == sorted(districts)  # by district, then street
    segments = sheet(books["en"]["municipality"], "Segments", "en")
    assert len(segments) == len(works) + 2  # header and totals row


def test_telecom_totals_match_the_plan(books: dict[str, dict[str, Path]]) -> None:
    plan, _, _ = city_plan()
    for lang in ("en", "fa"):
        rows = sheet(books[lang]["telecom"], "Bill of materials", lang)
        assert len(rows) == len(plan.bom) + 2
        total = rows[-1]
        assert total[0] == gettext("total", lang)
        assert total[4] == pytest.approx(plan.totals.cost_rial, abs=len(plan.bom))
        assert total[5] == pytest.approx(plan.totals.cost_usd, abs=1.0)
    runs = sheet(books["en"]["telecom"], "Cable runs", "en")
    assert len(runs) == len(plan.cable_runs) + 2
    assert runs[-1][4] == pytest.approx(sum(r.length_m for r in plan.cable_runs), abs=0.1)
    exchanges = sheet(books["en"]["telecom"], "Exchanges", "en")
    assert exchanges[-1][4] == sum(x.stations for x in plan.exchanges)
    totals = {r[0]: r[1] for r in sheet(books["en"]["telecom"], "Totals", "en")[1:]}
    assert totals["Stations"] == plan.totals.stations
    assert totals["Connected"] == plan.totals.connected
    assert totals["total cost (rials)"] == round(plan.totals.cost_rial)


def test_education_lists_every_school_and_station(books: dict[str, dict[str, Path]]) -> None:
    plan, _, stations = city_plan()
    rows = sheet(books["en"]["education"], "Schools", "en")
    header, body, total = rows[0], rows[1:-1], rows[-1]
    col = {name: header.index(name) for name in header}
    assert len(body) == len({s.site for s in plan.stations})
    assert total[col["stations"]] == plan.totals.stations
    assert total[col["ONTs"]] == plan.totals.connected
    served = {s.code for s in plan.stations if s.status == "connected"}
    devices = sum(s.devices for s in stations if s.code in served)
    assert total[col["devices"]] == devices
    assert total[col["power outlets"]] == plan.totals.connected + devices
    far = next(r for r in body if FAR_CODE in r[col["station codes"]])
    assert far[col["status"]] == "needs review" and far[col["ONTs"]] == 0
    assert FAR_CODE in far[col["needs review"]]
    each = sheet(books["fa"]["education"], "Stations", "fa")
    assert len(each) == plan.totals.stations + 1


def test_bill_of_materials_items_in_the_language(books: dict[str, dict[str, Path]]) -> None:
    plan, _, _ = city_plan()
    cable = next(line for line in plan.bom if line.item == "Fiber cable, {cores} cores")
    assert cable.params["cores"] > 0 and cable.render("en") == (
        f"Fiber cable, {cable.params['cores']} cores"
    )
    for lang in ("en", "fa"):
        items = [r[0] for r in sheet(books[lang]["telecom"], "Bill of materials", lang)[1:-1]]
        assert items == [line.render(lang) for line in plan.bom]
        assert not any("{" in item for item in items)  # every placeholder filled
    fa = [r[0] for r in sheet(books["fa"]["telecom"], "Bill of materials", "fa")[1:-1]]
    assert tr("Fiber cable, {cores} cores", "fa", cores=cable.params["cores"]) in fa
    assert not any(re.search("Fiber cable|Splitter", item) for item in fa)
    assert all(PERSIAN.search(item) for item in fa)


def test_cable_runs_and_trenches_have_the_work_orders_identifiers(
    books: dict[str, dict[str, Path]],
) -> None:
    from pollnet.plan.refs import PlanRefs
    from pollnet.rollout.workorders import generate

    plan, _, _ = city_plan()
    orders = generate(plan)
    pulls = {o.id.removeprefix("CP-") for o in orders if o.kind == "cable_pull"}
    trenches = {o.id for o in orders if o.kind == "trench"}
    runs = sheet(books["en"]["telecom"], "Cable runs", "en")
    col = {name: i for i, name in enumerate(runs[0])}
    listed = {r[col["cable run"]] for r in runs[1:-1]}
    assert listed == pulls  # every cable run by the name of its work orders
    assert {o.subject for o in orders if o.kind == "splice"} == pulls
    refs = set(PlanRefs(plan).trench.values())
    assert len(refs) == len(plan.trenches) and trenches <= refs
    laid_in = {ref for r in runs[1:-1] for ref in r[col["trench segments"]].split()}
    assert laid_in <= refs and laid_in & trenches
    splices = sheet(books["en"]["telecom"], "Splice points", "en")
    spliced = {ref for r in splices[1:] for ref in str(r[-1] or "").split()}
    assert spliced and spliced <= listed
    segments = sheet(books["en"]["municipality"], "Segments", "en")
    dug = {r[0] for r in segments[1:-1]}
    assert dug <= refs and dug & trenches


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_segment_ends_are_lat_lon_and_street_classes_translated(
    books: dict[str, dict[str, Path]], lang: str
) -> None:
    from pollnet.streets.classes import HIGHWAY_CLASSES

    plan, _, _ = city_plan()
    rows = sheet(books[lang]["municipality"], "Segments", lang)
    col = {name: i for i, name in enumerate(rows[0])}
    first = rows[1]
    lat, lon = (float(v) for v in first[col[gettext("from (lat, lon)", lang)]].split(", "))
    by_ref = {r[0]: r for r in rows[1:-1]}
    assert len(by_ref) == len(rows) - 2
    trench = next(t for t in plan.trenches if t.method not in ("drop", "existing_fiber"))
    lats = {round(t.coords[0][1], 6) for t in plan.trenches}
    lons = {round(t.coords[0][0], 6) for t in plan.trenches}
    assert lat in lats and lon in lons and trench is not None
    classes = {r[col[gettext("street class", lang)]] for r in rows[1:-1]}
    summary = sheet(books[lang]["municipality"], "Street works", lang)
    classes |= {r[3] for r in summary[1:-1] if r[3]}
    if lang == "en":
        assert classes <= set(HIGHWAY_CLASSES)
    else:
        assert classes and not classes & set(HIGHWAY_CLASSES)
        assert all(PERSIAN.search(c) for c in classes), classes


def test_every_sheet_has_an_autofilter_above_its_totals(
    books: dict[str, dict[str, Path]],
) -> None:
    for files in books.values():
        for path in files.values():
            for ws in load_workbook(path).worksheets:
                rows = list(ws.iter_rows())
                bold = [r for r in rows[1:] if r[0].font.b]  # totals rows are bold
                assert all(r[0].row > rows[-1][0].row - len(bold) for r in bold)  # at the end
                last = rows[0][-1].column_letter
                assert ws.auto_filter.ref == f"A1:{last}{len(rows) - len(bold)}", ws.title
                assert ws.freeze_panes == "A2"


def test_work_lists_from_openstreetmap_streets_carry_its_attribution(tmp_path: Path) -> None:
    from pollnet.plan.export import OSM_ATTRIBUTION
    from pollnet.plan.outputs import write_all
    from pollnet.streets.report import ImportReport

    plan, graph, stations = city_plan()
    osm = graph.replace(report=ImportReport("tehran.osm.pbf"))
    for g, credited in ((osm, True), (graph, False)):
        files = write_all(plan, g, tmp_path / str(credited), "fa", stations=stations)
        for agency in AGENCIES:
            about = sheet(files[agency], "About", "fa")
            assert any(OSM_ATTRIBUTION in str(r[1]) for r in about) is credited, agency
