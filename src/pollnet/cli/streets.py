"""``pollnet streets``: import a street network, describe it, snap points to it."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import numpy as np
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from pollnet import streets as st
from pollnet._cells import CsvWriter
from pollnet.areas import AreaSet, assign_streets, load_areas
from pollnet.cli._common import App, echo_json, echo_warning, pass_app, stderr
from pollnet.cli.areas import echo_streets
from pollnet.errors import UserError
from pollnet.i18n import format_number, gettext, tr
from pollnet.plan.params import PlanParameters
from pollnet.streets.classes import check_classes
from pollnet.streets.osm import Progress as ReadProgress


@click.group()
def streets() -> None:
    """The street network fiber follows."""


@streets.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Street cache to write (default: streets.npz next to the database).",
)
@click.option(
    "--districts",
    type=click.Path(dir_okay=False, path_type=Path),
    help="GeoJSON of municipal district polygons.",
)
@click.option("--district-property", help="Property holding a district's number.")
@click.option("--classes", help="Comma-separated highway classes to keep (default: settings).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary and report as JSON.")
@pass_app
def import_(
    app: App,
    file: Path,
    out: Path | None,
    districts: Path | None,
    district_property: str | None,
    classes: str | None,
    as_json: bool,
) -> None:
    """Read an OpenStreetMap (.osm.pbf, .osm) or GeoJSON street file into the street cache."""
    config = st.StreetsConfig.from_settings(app.settings)
    with _import_progress() as on_read:
        graph = st.read(
            file,
            classes=check_classes(classes.split(",")) if classes else config.classes,
            districts=districts,
            district_property=district_property or config.district_property,
            progress=on_read,
        )
        every = stored_areas(app)
        by_area = None
        if every:
            graph, by_area = assign_streets(graph, every)
        written = st.save(graph, out or config.cache)
        limit = PlanParameters.from_mapping(app.settings.section("plan")).max_drop_m
        lon, lat = stored_exchanges(app)
        stranded = st.fragments(graph, lon, lat, max_drop_m=limit)
    warning = st.outside_area(graph.node_lat, graph.node_lon, app.settings.bbox)
    if warning is not None:
        echo_warning(warning.render())
    if as_json:
        echo_json(
            {
                "cache": str(written),
                **graph.summary(),
                "report": graph.report.to_dict(),
                "areas": by_area.to_dict() if by_area else None,
                "fragments": stranded.to_dict(),
            }
        )
        return
    for line in graph.report.lines():
        click.echo(line)
    _echo_summary(graph)
    echo_fragments(stranded, limit)
    if every and by_area is not None:
        echo_streets(by_area, every, str(written))
        return
    if not districts and not graph.summary()["districts"]:
        click.echo(
            tr(
                "No areas yet: the streets have no municipal district; import the areas "
                "(pollnet areas import) and they are assigned"
            )
        )
    click.echo(f"{tr('street cache')}: {written}")


def echo_fragments(stranded: st.Fragments, limit: float) -> None:
    """The street fragments no exchange reaches, and what happens to stations near them."""
    if not stranded.count:
        return
    lon, lat = stranded.largest_lonlat or (0.0, 0.0)
    common = {
        "count": format_number(stranded.count),
        "km": format_number(stranded.length_m / 1000.0, decimals=1),
        "largest": format_number(stranded.largest_m / 1000.0, decimals=2),
        "nodes": format_number(stranded.largest_nodes),
        "lat": f"{lat:.5f}",
        "lon": f"{lon:.5f}",
    }
    if stranded.exchanges:
        click.echo(
            tr(
                "{count} street fragments ({km} km) no exchange reaches; the largest: {largest} "
                "km, {nodes} nodes, at {lat}, {lon}. A station near one is attached to the "
                "exchanges' network when a street of it is within {limit} m ([plan] max_drop_m)",
                limit=format_number(round(limit)),
                **common,
            )
        )
    else:
        click.echo(
            tr(
                "{count} street fragments ({km} km) apart from the largest part of the network; "
                "the largest: {largest} km, {nodes} nodes, at {lat}, {lon} (import the exchanges "
                "to see which of them no exchange reaches)",
                **common,
            )
        )


def _database_exists(app: App) -> bool:
    url = app.settings.db_url
    return not (url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).is_file())


def stored_exchanges(app: App) -> tuple[list[float], list[float]]:
    """The exchanges' longitudes and latitudes (none when there is no database yet)."""
    if not _database_exists(app):
        return [], []
    import sqlalchemy as sa

    from pollnet.store.schema import core

    with app.engine.connect() as conn:
        rows = conn.execute(sa.select(core.exchanges.c.lon, core.exchanges.c.lat)).all()
    return [r.lon for r in rows], [r.lat for r in rows]


def stored_areas(app: App) -> AreaSet | None:
    """The stored areas, or None when there are none (a SQLite file that does not exist yet is
    not created for this)."""
    if not _database_exists(app):
        return None
    every = load_areas(app.engine)
    return every if len(every) else None


@contextmanager
def _import_progress() -> Iterator[ReadProgress | None]:
    """A bar on standard error of the share of the file read, then a pulsing one while the
    graph is built and saved; yields the reader's progress callback (None off a terminal)."""
    console = stderr()
    if not console.is_terminal:  # a transient bar would still leave an empty line
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task(gettext("Reading the street network"), total=None)

        def on_read(done: int, size: int) -> None:
            if done < size:
                bar.update(task, completed=done, total=size)
            else:
                bar.update(task, description=gettext("Building the street graph"), total=None)

        yield on_read


@streets.command("info")
@click.argument("cache", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@pass_app
def info(app: App, cache: Path | None, as_json: bool) -> None:
    """Describe a street cache: size, length by class, components, what the import dropped."""
    graph = st.load(cache or st.StreetsConfig.from_settings(app.settings).cache)
    if as_json:
        echo_json({**graph.summary(), "report": graph.report.to_dict()})
        return
    _echo_summary(graph)
    for line in graph.report.lines():
        click.echo(line)


@streets.command("snap")
@click.argument("points", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--cache", type=click.Path(dir_okay=False, path_type=Path), help="Street cache.")
@click.option("--max-drop-m", type=float, help="Flag points farther than this from a street.")
@pass_app
def snap(app: App, points: Path, cache: Path | None, max_drop_m: float | None) -> None:
    """Attach the points of a CSV (columns lon, lat; others are copied) to their nearest
    street; writes CSV with edge, street name, drop in metres and flags to standard output."""
    config = st.StreetsConfig.from_settings(app.settings)
    graph = st.load(cache or config.cache)
    rows, lon, lat = _read_points(points)
    snaps = st.snap(graph, lon, lat, max_drop_m=max_drop_m or config.max_drop_m)
    writer = CsvWriter(sys.stdout)
    header = list(rows[0].keys()) if rows else []
    writer.writerow([*header, "edge", "street", "drop_m", "flags"])
    for i, row in enumerate(rows):
        e = int(snaps.edge[i])
        writer.writerow(
            [
                *row.values(),
                e if e >= 0 else "",
                graph.edge_name[e] if e >= 0 else "",
                f"{snaps.drop_m[i]:.1f}" if e >= 0 else "",
                " ".join(snaps.reasons(i)),
            ]
        )


def _read_points(path: Path) -> tuple[list[dict[str, str]], np.ndarray, np.ndarray]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError:
        raise UserError.of("file not found", file=str(path)) from None
    lon = np.full(len(rows), np.nan)
    lat = np.full(len(rows), np.nan)
    for number, row in enumerate(rows, start=1):
        for column, target in (("lon", lon), ("lat", lat)):
            if column not in row:
                raise UserError.of("missing column {column}", file=str(path), column=column)
            try:
                target[number - 1] = float(row[column])
            except (TypeError, ValueError):
                raise UserError.of(
                    "not a number: {value}",
                    file=str(path),
                    row=number,
                    column=column,
                    value=str(row[column]),
                ) from None
    return rows, lon, lat


def _echo_summary(graph: st.StreetGraph) -> None:
    s = graph.summary()
    click.echo(
        tr(
            "{nodes} nodes, {edges} edges, {km} km of street in {components} components "
            "(the largest has {largest} nodes)",
            nodes=format_number(s["nodes"]),
            edges=format_number(s["edges"]),
            km=format_number(s["length_km"], decimals=1),
            components=format_number(s["components"]),
            largest=format_number(s["largest_component_nodes"]),
        )
    )
    for name, km in s["length_km_by_class"].items():
        click.echo("  " + tr("{name}: {km} km", name=name, km=format_number(km, decimals=1)))


COMMANDS = [streets]
