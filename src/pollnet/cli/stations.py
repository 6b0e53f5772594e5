"""``pollnet stations``: import, list, show and export the polling-station registry.

Each command is a thin wrapper over :mod:`pollnet.registry`.
"""

from __future__ import annotations

from pathlib import Path

import click

from pollnet import registry
from pollnet.areas import load_areas, refresh_stations
from pollnet.cli._common import App, busy, echo_json, pass_app
from pollnet.cli._imports import (
    check_rejects_option,
    counts,
    echo_read,
    echo_report,
    rejects_option,
    report_dict,
    skip_invalid_option,
    verbose_option,
)
from pollnet.cli._records import column_label, echo_record, echo_records
from pollnet.cli.areas import area_filters, area_options, echo_points, stations_in
from pollnet.i18n import current_language, format_number, gettext, normalise, tr


@click.group()
def stations() -> None:
    """The polling-station registry: import, list, show, export."""


@stations.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@skip_invalid_option
@rejects_option
@verbose_option
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as a JSON object.")
@pass_app
def import_(
    app: App, file: Path, skip_invalid: bool, rejects: Path | None, verbose: bool, as_json: bool
) -> None:
    """Import a station file (CSV, XLSX or GeoJSON); re-importing updates stations by code."""
    check_rejects_option(skip_invalid, rejects)
    table = registry.read_table(file)
    if not as_json:
        echo_read(table)
    with busy(gettext("Importing stations")):
        report = registry.import_table(
            app.engine,
            table,
            settings=app.settings,
            skip_invalid=skip_invalid,
            rejects=rejects or registry.default_rejects_path(file),
        )
    found = refresh_stations(app.engine)
    if as_json:
        echo_json(report_dict(report))
        return
    summary = tr(
        "Stations: {added} added, {changed} changed, {unchanged} unchanged.", **counts(report)
    )
    echo_report(report, summary, verbose)
    every = load_areas(app.engine)
    if len(every):
        echo_points("Stations", found, every, _rows_of(table))


def _rows_of(table: registry.Table) -> dict[str, str]:
    """Each station code of ``table`` and where it is: ``file, row N (code)``."""
    position = registry.map_headers(table.headers, table.file).get("code")
    if position is None:
        return {}
    return {
        normalise(cells[position]): f"{table.file}, {tr('row {row}', row=number)} "
        f"({normalise(cells[position])})"
        for number, cells in table.rows
        if position < len(cells)
    }


_district_option = click.option("--district", type=int, help="Only this municipal district.")
_critical_option = click.option(
    "--critical/--not-critical", default=None, help="Only critical (or only non-critical) stations."
)


@stations.command("list")
@_district_option
@area_options
@_critical_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_app
def list_(
    app: App,
    district: int | None,
    county: str | None,
    municipality: str | None,
    education_district: str | None,
    critical: bool | None,
    as_json: bool,
) -> None:
    """List the stations, ordered by code."""
    records = registry.list_stations(app.engine, district=district, critical=critical)
    chosen = stations_in(app, area_filters(app, county, municipality, education_district))
    if chosen is not None:
        records = [r for r in records if r.code in chosen]
    shown = ("code", "name", "site", "district", "voters", "devices", "critical")
    total = tr("{count} stations", count=format_number(len(records)))
    echo_records(records, shown, _label, total, as_json)


@stations.command("show")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@pass_app
def show(app: App, code: str, as_json: bool) -> None:
    """Show one station by its code."""
    record = registry.get_station(app.engine, code)
    echo_record(record, _label, as_json)


@stations.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--headers",
    type=click.Choice(("fa", "en")),
    help="Language of the column names and yes/no (default: the output language).",
)
@_district_option
@_critical_option
@pass_app
def export(
    app: App, file: Path, headers: str | None, district: int | None, critical: bool | None
) -> None:
    """Export the stations to FILE: CSV, XLSX or GeoJSON by its extension."""
    with busy(gettext("Exporting stations")):
        count = registry.export_stations(
            app.engine, file, headers=headers or current_language(), district=district,
            critical=critical,
        )  # fmt: skip
    click.echo(
        tr("Exported {count} stations to {path}", count=format_number(count), path=str(file))
    )


_label = column_label(registry.STATION_COLUMNS)


COMMANDS = [stations]
