"""``pollnet areas``: import administrative areas, list, show and export them.

Each command is a thin wrapper over :mod:`pollnet.areas`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import click
from rich.table import Table as RichTable

from pollnet import areas as ar
from pollnet.cli._common import App, echo_json, echo_warning, pass_app, stdout
from pollnet.i18n import current_language, format_number, gettext, join_list, localise_text, tr
from pollnet.streets.config import StreetsConfig

_KINDS = [k.value for k in ar.AreaKind]


@click.group()
def areas() -> None:
    """Administrative areas: counties, municipalities, municipal and education districts."""


@areas.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--kind",
    type=click.Choice(_KINDS),
    help="The kind of every area of the file (default: each feature's kind property).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as a JSON object.")
@pass_app
def import_(app: App, file: Path, kind: str | None, as_json: bool) -> None:
    """Import area polygons (GeoJSON or GeoPackage) and assign stations, exchanges and streets
    to them."""
    found = ar.read_areas(file, kind=kind)
    cache = StreetsConfig.from_settings(app.settings).cache
    report = ar.import_areas(app.engine, found, file=str(file), street_cache=cache)
    if as_json:
        echo_json(report.to_dict())
        return
    every = ar.load_areas(app.engine)
    counts = join_list(f"{gettext(k)} {format_number(n)}" for k, n in report.by_kind.items())
    click.echo(tr("Read {file}: {count} areas", file=str(file), count=len(found)) + f" ({counts})")
    click.echo(
        tr(
            "Areas: {added} added, {changed} changed, {unchanged} unchanged.",
            added=len(report.added),
            changed=len(report.changed),
            unchanged=len(report.unchanged),
        )
    )
    echo_points("Stations", report.stations, every)
    echo_points("Exchanges", report.exchanges, every)
    if report.streets is not None and report.street_cache:
        echo_streets(report.streets, every, report.street_cache)
    else:
        click.echo(tr("No street cache yet: streets get their areas when they are imported."))


def echo_points(
    subject: str, found: ar.PointAreas, every: ar.AreaSet, rows: Mapping[str, str] | None = None
) -> None:
    """What the points got: a line per kind of area, the points outside, the mismatches (each
    named by ``rows[code]``, ``file, row N (code)``, when given, else by its code)."""
    total = len(found.links)
    for kind, per in found.counts().items():
        parts = join_list(
            f"{_name(every, kind, code)}: {format_number(n)}" for code, n in per.items()
        )
        click.echo(
            tr("{subject} by {kind}", subject=gettext(subject), kind=gettext(kind))
            + f" ({format_number(sum(per.values()))}/{format_number(total)}): {parts}"
        )
    if found.outside:
        click.echo(
            tr(
                "{count} outside every area: {codes}",
                count=len(found.outside),
                codes=", ".join(found.outside[:20]) + (" …" if len(found.outside) > 20 else ""),
            )
        )
    for m in found.mismatches:
        where = rows[m.code] if rows and m.code in rows else m.code
        echo_warning(
            tr(
                "{where}: {kind} {given} in the file, but it lies in the polygon of {kind} "
                "{found}; the file's value is kept",
                where=where,
                kind=gettext(m.kind.value),
                given=m.given,
                found=m.found,
            )
        )


def echo_streets(report: ar.StreetAreas, every: ar.AreaSet, cache: str) -> None:
    """How many streets each area got, and the streets outside every area."""
    for kind, per in report.edges.items():
        parts = join_list(
            tr(
                "{area}: {edges} streets ({km} km)",
                area=_name(every, kind, code),
                edges=format_number(n),
                km=format_number(report.length_m[kind][code] / 1000.0, decimals=1),
            )
            for code, n in per.items()
        )
        click.echo(tr("Streets by {kind}", kind=gettext(kind)) + f": {parts}")
    if report.outside_edges:
        echo_warning(
            tr(
                "{edges} streets ({km} km) lie outside every area; their work orders take the "
                "district of the nearest station (import an area that covers them)",
                edges=format_number(report.outside_edges),
                km=format_number(report.outside_m / 1000.0, decimals=1),
            )
        )
    click.echo(f"{tr('street cache')}: {cache}")


def _name(every: ar.AreaSet, kind: str, code: str) -> str:
    """An area as a listing shows it: its name as written; a district by its number."""
    area = every.get(ar.AreaKind(kind), code)
    if area is not None and (area.name_fa or area.name_en):
        return area.label(current_language())
    return localise_text(code) if code.isdigit() else code


@areas.command("list")
@click.option("--kind", type=click.Choice(_KINDS), help="Only areas of this kind.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_app
def list_(app: App, kind: str | None, as_json: bool) -> None:
    """List the areas, largest kind first."""
    every = ar.load_areas(app.engine, ar.AreaKind(kind) if kind else None)
    stations = ar.links(app.engine)
    counts: dict[tuple[str, str], int] = {}
    for kinds in stations.values():
        for k, code in kinds.items():
            counts[(k, code)] = counts.get((k, code), 0) + 1
    rows = [{**a.as_dict(), "stations": counts.get((a.kind.value, a.code), 0)} for a in every]
    if as_json:
        echo_json(rows)
        return
    table = RichTable(*(gettext(h) for h in ("kind", "code", "name", "stations")))
    lang = current_language()
    for area, row in zip(every, rows, strict=True):
        table.add_row(
            gettext(area.kind.value), area.code, area.label(lang), format_number(row["stations"])
        )
    console = stdout()
    console.print(table)
    console.print(tr("{count} areas", count=format_number(len(rows))))


@areas.command("show")
@click.argument("kind", type=click.Choice(_KINDS))
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@pass_app
def show(app: App, kind: str, name: str, as_json: bool) -> None:
    """Show one area (by code, name or number) and the stations in it."""
    area = ar.get_area(app.engine, ar.AreaKind(kind), name)
    codes = sorted(ar.codes_in(app.engine, {area.kind: area.code}))
    exchanges = sorted(ar.codes_in(app.engine, {area.kind: area.code}, ar.EXCHANGE))
    data = {**area.as_dict(), "stations": codes, "exchanges": exchanges}
    if as_json:
        echo_json(data)
        return
    table = RichTable(show_header=False)
    for key in ("kind", "code", "name_fa", "name_en", "number", "osm_relation", "bbox_lonlat"):
        value = data[key]
        if key == "kind":
            shown = gettext(str(value))
        elif key in ("number", "osm_relation", "bbox_lonlat"):
            shown = localise_text(str(value))
        else:  # codes and names keep their own digits
            shown = str(value)
        table.add_row(gettext(key), "-" if value is None else shown)
    table.add_row(gettext("stations"), f"{format_number(len(codes))}: " + " ".join(codes[:30]))
    table.add_row(gettext("exchanges"), f"{format_number(len(exchanges))}: " + " ".join(exchanges))
    stdout().print(table)


@areas.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(_KINDS), help="Only areas of this kind.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as a JSON object.")
@pass_app
def export(app: App, file: Path, kind: str | None, as_json: bool) -> None:
    """Export the areas to FILE: GeoJSON or GeoPackage by its extension."""
    count = ar.export_areas(app.engine, file, ar.AreaKind(kind) if kind else None)
    if as_json:
        echo_json({"file": str(file), "areas": count})
        return
    click.echo(tr("Exported {count} areas to {path}", count=format_number(count), path=str(file)))


COMMANDS = [areas]


education_district_option = click.option(
    "--education-district", "education_district", help="Only this education district."
)
"""``--education-district``: a district's number, or an area's code or name (see
:func:`area_filters`)."""


def area_options(func: click.decorators.FC) -> click.decorators.FC:
    """``--county``, ``--municipality``, ``--education-district``: only what lies in them."""
    func = education_district_option(func)
    func = click.option("--municipality", help="Only this municipality (code or name).")(func)
    return click.option("--county", help="Only this county (code or name).")(func)


def area_filters(
    app: App, county: str | None, municipality: str | None, education_district: str | None
) -> dict[str, str]:
    """The area options resolved to codes: kind -> area code (empty when none is given)."""
    found = ar.area_filters(
        app.engine, county=county, municipality=municipality,
        education_district=education_district,
    )  # fmt: skip
    return {kind.value: code for kind, code in found.items()}


def stations_in(app: App, filters: Mapping[str, str]) -> set[str] | None:
    """The codes of the stations in every area of ``filters``; None when there is no filter."""
    if not filters:
        return None
    return ar.codes_in(app.engine, {ar.AreaKind(k): v for k, v in filters.items()})
