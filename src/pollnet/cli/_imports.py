"""What every import command prints: the file as read, the counts, warnings, the rejects file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pollnet.i18n import format_number, gettext, tr
from pollnet.registry import ImportReport, Table

skip_invalid_option = click.option(
    "--skip-invalid", is_flag=True, help="Import the valid rows; write the rest to a rejects file."
)
rejects_option = click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where rejected rows go with --skip-invalid (default: FILE.rejects.csv).",
)
verbose_option = click.option(
    "--verbose", "-v", is_flag=True, help="List the codes added, changed and unchanged."
)
headers_option = click.option(
    "--headers",
    type=click.Choice(("fa", "en")),
    help="Language of the column names (default: the output language).",
)

FORMAT_NAMES = {"csv": "CSV", "xlsx": "XLSX", "geojson": "GeoJSON", "geopackage": "GeoPackage"}


def check_rejects_option(skip_invalid: bool, rejects: object) -> None:
    """``--rejects`` only makes sense with ``--skip-invalid``."""
    if rejects is not None and not skip_invalid:
        raise click.UsageError("--rejects needs --skip-invalid")


def echo_read(table: Table) -> None:
    """``Read FILE: FORMAT[, ENCODING], N rows.``"""
    rows = format_number(len(table.rows))
    one = len(table.rows) == 1
    if table.encoding:
        say(
            "Read {file}: {format}, {encoding}, {rows} row." if one
            else "Read {file}: {format}, {encoding}, {rows} rows.",
            file=table.file, format=FORMAT_NAMES[table.format],
            encoding=gettext(table.encoding), rows=rows,
        )  # fmt: skip
    else:
        say(
            "Read {file}: {format}, {rows} row." if one else "Read {file}: {format}, {rows} rows.",
            file=table.file, format=FORMAT_NAMES[table.format], rows=rows,
        )  # fmt: skip


def counts(report: ImportReport) -> dict[str, str]:
    """``added``, ``changed`` and ``unchanged`` as numbers for display, for the summary line."""
    return {
        "added": format_number(len(report.added)),
        "changed": format_number(len(report.changed)),
        "unchanged": format_number(len(report.unchanged)),
    }


def echo_report(report: ImportReport, summary: str, verbose: bool) -> None:
    """The ``summary`` line (translated, see :func:`counts`), the codes when ``verbose``,
    warnings on standard error, and where rejected rows went."""
    click.echo(summary)
    if verbose:
        for label, codes in (
            ("added: {codes}", report.added),
            ("changed: {codes}", report.changed),
            ("unchanged: {codes}", report.unchanged),
        ):
            if codes:
                click.echo(tr(label, codes=", ".join(codes)))
    for warning in report.warnings:
        click.echo(f"{gettext('warning')}: {warning.render()}", err=True)
    if report.rejected:
        say(
            "{count} row rejected; written with its reason to {path}"
            if len(report.rejected) == 1
            else "{count} rows rejected; written with their reasons to {path}",
            count=format_number(len(report.rejected)),
            path=str(report.rejects_file),
        )


def report_dict(report: ImportReport) -> dict[str, Any]:
    """The report as one JSON object."""
    return {
        "file": report.file,
        "format": report.format,
        "encoding": report.encoding,
        "rows": report.rows,
        "added": list(report.added),
        "changed": list(report.changed),
        "unchanged": list(report.unchanged),
        "rejected": [
            {"row": r.row, "reasons": [p.render() for p in r.problems]} for r in report.rejected
        ],
        "rejects_file": str(report.rejects_file) if report.rejects_file else None,
        "warnings": [w.render() for w in report.warnings],
    }


def say(message: str, **params: str) -> None:
    """Print a translated line whose parameters are already fit for display (paths untouched)."""
    click.echo(gettext(message).format(**params))
