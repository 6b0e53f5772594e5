"""``pollnet exchanges``: import, list, show and export the telecom company's exchanges.

Each command is a thin wrapper over :mod:`pollnet.telecom`.
"""

from __future__ import annotations

from pathlib import Path

import click

from pollnet import telecom
from pollnet.areas import load_areas, refresh_exchanges
from pollnet.cli._common import App, echo_json, pass_app
from pollnet.cli._imports import (
    check_rejects_option,
    counts,
    echo_read,
    echo_report,
    headers_option,
    rejects_option,
    report_dict,
    skip_invalid_option,
    verbose_option,
)
from pollnet.cli._records import column_label, echo_record, echo_records
from pollnet.cli.areas import echo_points
from pollnet.i18n import current_language, format_number, tr


@click.group()
def exchanges() -> None:
    """The telecom company's exchanges: import, list, show, export."""


@exchanges.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@skip_invalid_option
@rejects_option
@verbose_option
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as a JSON object.")
@pass_app
def import_(
    app: App, file: Path, skip_invalid: bool, rejects: Path | None, verbose: bool, as_json: bool
) -> None:
    """Import an exchange file (CSV, XLSX, GeoJSON or GeoPackage); re-importing updates by code."""
    check_rejects_option(skip_invalid, rejects)
    table = telecom.read_exchanges(file)
    if not as_json:
        echo_read(table)
    report = telecom.import_exchanges(
        app.engine, table, settings=app.settings, skip_invalid=skip_invalid, rejects=rejects
    )
    found = refresh_exchanges(app.engine)
    if as_json:
        echo_json(report_dict(report))
        return
    summary = tr(
        "Exchanges: {added} added, {changed} changed, {unchanged} unchanged.", **counts(report)
    )
    echo_report(report, summary, verbose)
    every = load_areas(app.engine)
    if len(every):
        echo_points("Exchanges", found, every)


@exchanges.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_app
def list_(app: App, as_json: bool) -> None:
    """List the exchanges, ordered by code."""
    records = telecom.list_exchanges(app.engine)
    total = tr("{count} exchanges", count=format_number(len(records)))
    shown = ("code", "name", "operator", "pon_ports", "county")
    echo_records(records, shown, _label, total, as_json)


@exchanges.command("show")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@pass_app
def show(app: App, code: str, as_json: bool) -> None:
    """Show one exchange by its code."""
    record = telecom.get_exchange(app.engine, code)
    echo_record(record, _label, as_json)


@exchanges.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@headers_option
@pass_app
def export(app: App, file: Path, headers: str | None) -> None:
    """Export the exchanges to FILE: CSV, XLSX or GeoJSON by its extension."""
    count = telecom.export_exchanges(app.engine, file, headers=headers or current_language())
    click.echo(
        tr("Exported {count} exchanges to {path}", count=format_number(count), path=str(file))
    )


_label = column_label(telecom.EXCHANGE_COLUMNS)

COMMANDS = [exchanges]
