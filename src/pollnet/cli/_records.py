"""Printing records (stations, exchanges, fiber lines) as a table or one record's fields."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rich.table import Table as RichTable

from pollnet.cli._common import stdout
from pollnet.i18n import format_number, gettext

Label = Callable[[str], str]
Display = Callable[[str, Any], str]


def display(key: str, value: Any) -> str:
    """A field's value for the terminal: ``-`` for none, yes/no, numbers in the language's
    digits; codes, names and other text as written (their digits are the file's own)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return gettext("yes" if value else "no")
    if isinstance(value, int | float):
        return format_number(value)
    if isinstance(value, dict):  # a geometry: its type is what a terminal can show
        return str(value.get("type", ""))
    return str(value)


def print_table(
    rows: Sequence[Mapping[str, Any]], keys: Sequence[str], label: Label, total: str,
    show: Display = display,
) -> None:  # fmt: skip
    """``rows`` as a table of the columns ``keys``, then the ``total`` line."""
    table = RichTable(*(label(key) for key in keys))
    for row in rows:
        table.add_row(*(show(key, row[key]) for key in keys))
    console = stdout()
    console.print(table)
    console.print(total)


def print_record(row: Mapping[str, Any], label: Label, show: Display = display) -> None:
    """One record, a field per line."""
    table = RichTable(show_header=False)
    for key, value in row.items():
        table.add_row(label(key), show(key, value))
    stdout().print(table)
