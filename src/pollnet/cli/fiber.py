"""``pollnet fiber``: import, list, show and export the telecom company's existing fiber.

Each command is a thin wrapper over :mod:`pollnet.telecom`.
"""

from __future__ import annotations

from pathlib import Path

import click

from pollnet import telecom
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
from pollnet.i18n import current_language, format_number, tr


@click.group()
def fiber() -> None:
    """The telecom company's existing fiber: import, list, show, export."""


@fiber.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--streets",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Street cache to match the lines onto (default: the one `streets import` wrote).",
)
@skip_invalid_option
@rejects_option
@verbose_option
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as a JSON object.")
@pass_app
def import_(
    app: App, file: Path, streets: Path | None, skip_invalid: bool, rejects: Path | None,
    verbose: bool, as_json: bool,
) -> None:  # fmt: skip
    """Import a fiber file (CSV/XLSX with WKT, GeoJSON or GeoPackage lines); updates by code."""
    check_rejects_option(skip_invalid, rejects)
    table = telecom.read_fiber(file)
    if not as_json:
        echo_read(table)
    report = telecom.import_fiber(
        app.engine, table, settings=app.settings, streets=streets, skip_invalid=skip_invalid,
        rejects=rejects,
    )  # fmt: skip
    if as_json:
        echo_json({**report_dict(report), "matched": report.matched, "street_m": report.street_m})
        return
    summary = tr(
        "Fiber lines: {added} added, {changed} changed, {unchanged} unchanged.", **counts(report)
    )
    echo_report(report, summary, verbose)
    if report.matched is not None:
        click.echo(
            tr(
                "Along the streets: {matched} of {lines} lines, {km} km of street.",
                matched=format_number(report.matched),
                lines=format_number(len(report.added + report.changed + report.unchanged)),
                km=format_number(report.street_m / 1000, decimals=1),
            )
        )


@fiber.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_app
def list_(app: App, as_json: bool) -> None:
    """List the fiber lines, ordered by code."""
    records = telecom.list_fiber(app.engine)
    total = tr("{count} fiber lines", count=format_number(len(records)))
    shown = ("code", "owner", "kind", "spare_fibres", "free_ducts")
    echo_records(records, shown, _label, total, as_json)


@fiber.command("show")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@pass_app
def show(app: App, code: str, as_json: bool) -> None:
    """Show one fiber line by its code."""
    record = telecom.get_fiber(app.engine, code)
    echo_record(record, _label, as_json)


@fiber.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@headers_option
@pass_app
def export(app: App, file: Path, headers: str | None) -> None:
    """Export the fiber lines to FILE: CSV or XLSX (lines as WKT) or GeoJSON, by extension."""
    count = telecom.export_fiber(app.engine, file, headers=headers or current_language())
    click.echo(
        tr("Exported {count} fiber lines to {path}", count=format_number(count), path=str(file))
    )


_label = column_label(telecom.FIBER_COLUMNS)

COMMANDS = [fiber]
