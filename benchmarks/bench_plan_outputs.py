"""The plan's outputs for a whole synthetic city: time per writer, file sizes, map draw time.

Plans the synthetic city (8,000 stations by default), then writes the GeoPackage, the GeoJSON
layers, the three XLSX work lists and the HTML report, timing each. Baselines, measured in the
same run: the same layers written to a GeoPackage by GDAL (pyogrio + geopandas), against our
dependency-free sqlite3 writer; the same work lists written through openpyxl's write-only mode
(the writer used before), against our streaming writer. With playwright and Chromium, it also opens
the report and times the first full draw of the map and one redraw (what a pan or zoom costs).

    .venv/bin/python benchmarks/bench_plan_outputs.py [--stations 8000] [--seed 1402]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pollnet.datasets.synth import generate  # noqa: E402
from pollnet.i18n import gettext  # noqa: E402
from pollnet.plan import plan_city, worklists  # noqa: E402
from pollnet.plan.export import layers, write_geojson, write_geopackage  # noqa: E402
from pollnet.plan.report import write_report  # noqa: E402
from pollnet.plan.worklists import write_worklists  # noqa: E402
from pollnet.streets import from_city  # noqa: E402


def timed(label: str, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    seconds = time.perf_counter() - start
    print(f"{label:<36} {seconds:8.2f} s")
    return value, seconds


def gdal_geopackage(plan, path: Path) -> None:  # type: ignore[no-untyped-def]
    """The baseline: every layer through geopandas/pyogrio (GDAL's GPKG driver)."""
    import geopandas as gpd
    import shapely

    for layer in layers(plan):
        make = shapely.points if layer.geometry == "POINT" else shapely.linestrings
        geoms = [make(c[0]) if layer.geometry == "POINT" else make(c) for c, _ in layer.features]
        frame = gpd.GeoDataFrame(list(layer.properties()), geometry=geoms, crs="EPSG:4326")
        frame.to_file(path, layer=layer.name, driver="GPKG", engine="pyogrio")


class OpenpyxlBook:
    """The baseline work-list writer: openpyxl's write-only mode (streamed, with lxml), plain
    values where no number format applies and a styled cell otherwise, as the work lists were."""

    def __init__(self, path: Path, lang: str) -> None:
        from openpyxl import Workbook

        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.lang, self.wb = path, lang, Workbook(write_only=True)

    def sheet(self, title: str, columns):  # type: ignore[no-untyped-def]
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Font, PatternFill
        from openpyxl.utils import get_column_letter

        ws = self.wb.create_sheet(gettext(title, self.lang)[:31])
        bold = Font(bold=True)
        head, tot = PatternFill("solid", fgColor="DDE5F0"), PatternFill("solid", fgColor="F2F2F2")
        if self.lang == "fa":
            ws.sheet_view.rightToLeft = True
        ws.freeze_panes = "A2"
        for i, col in enumerate(columns, start=1):
            ws.column_dimensions[get_column_letter(i)].width = col.width

        def cell(value, fmt, style=None):  # type: ignore[no-untyped-def]
            c = WriteOnlyCell(ws, value=value)
            if fmt and isinstance(value, int | float):
                c.number_format = fmt
            if style == "header":
                c.font, c.fill = bold, head
                c.alignment = Alignment(wrap_text=True, vertical="top")
            elif style == "total":
                c.font, c.fill = bold, tot
            return c

        ws.append([cell(gettext(c.header, self.lang), None, "header") for c in columns])

        class Sheet:
            def row(self, values, *, total=False):  # type: ignore[no-untyped-def]
                ws.append(
                    [
                        cell(v, c.number_format, "total" if total else None)
                        if total or (c.number_format and isinstance(v, int | float))
                        else v
                        for v, c in zip(values, columns, strict=True)
                    ]
                )

        return Sheet()

    def save(self) -> Path:
        self.wb.save(self.path)
        return self.path


@contextlib.contextmanager
def openpyxl_worklists():  # type: ignore[no-untyped-def]
    """Work lists written through the baseline writer while the block runs."""
    ours = worklists._Book
    worklists._Book = OpenpyxlBook  # type: ignore[misc, assignment]
    try:
        yield
    finally:
        worklists._Book = ours  # type: ignore[misc]


def browser_draw(report: Path) -> tuple[float, float] | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        start = time.perf_counter()
        page.goto(report.resolve().as_uri())
        page.wait_for_selector("#map[data-ready='1']", timeout=120000)
        ready = time.perf_counter() - start
        redraw = page.evaluate(
            "(() => { const t = performance.now(); window.pollnetMap.redraw();"
            " return performance.now() - t; })()"
        )
        browser.close()
    return ready, float(redraw) / 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stations", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=1402)
    args = parser.parse_args()

    city, _ = timed("synthetic city", generate, args.stations, args.seed)
    plan, _ = timed("plan (plan_city)", plan_city, city)
    graph = from_city(city)
    print(
        f"plan: {plan.totals.stations} stations, {len(plan.trenches)} trench segments, "
        f"{len(plan.cable_runs)} cable runs; streets: {graph.num_nodes} nodes, "
        f"{graph.num_edges} edges"
    )
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        _, ours = timed("GeoPackage (sqlite3, ours)", write_geopackage, plan, out / "ours.gpkg")
        try:
            _, gdal = timed("GeoPackage (GDAL baseline)", gdal_geopackage, plan, out / "gdal.gpkg")
            print(f"ours / GDAL time ratio: {ours / gdal:.2f} (below 1 = ours faster)")
        except ImportError:
            print("GDAL baseline skipped: geopandas/pyogrio not installed")
        geojson, _ = timed("GeoJSON (7 layers)", write_geojson, plan, out / "geojson")
        books, xlsx = timed(
            "XLSX work lists (fa, ours)", write_worklists, plan, out, "fa", city.stations
        )
        with openpyxl_worklists():
            _, old = timed(
                "XLSX work lists (openpyxl baseline)",
                write_worklists,
                plan,
                out / "openpyxl",
                "fa",
                city.stations,
            )
        print(f"ours / openpyxl time ratio: {xlsx / old:.2f} (below 1 = ours faster)")
        report, _ = timed("HTML report (fa)", write_report, plan, out / "r.html", graph, "fa")
        mb = 1024 * 1024
        print(f"report size: {report.stat().st_size / mb:.2f} MiB")
        print(f"GeoPackage size: {(out / 'ours.gpkg').stat().st_size / mb:.2f} MiB")
        print(f"GeoJSON size: {sum(p.stat().st_size for p in geojson.values()) / mb:.2f} MiB")
        print(f"XLSX size: {sum(p.stat().st_size for p in books.values()) / mb:.2f} MiB")
        drawn = browser_draw(report)
        if drawn:
            print(f"browser: page ready with the map drawn in {drawn[0]:.2f} s")
            print(f"browser: one full redraw (pan/zoom) {drawn[1] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
