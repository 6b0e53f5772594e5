"""Printing records (stations, exchanges, fiber lines) as a table or one record's fields,
or as JSON with ``--json``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from rich.table import Table as RichTable

from pollnet.cli._common import echo_json, stdout
from pollnet.i18n import current_language, format_number, gettext
from pollnet.registry import Columns

Label = Callable[[str], str]
Display = Callable[[str, Any], str]


class Record(Protocol):
    """A stored record that maps itself to its English column names."""

    def as_dict(self) -> dict[str, Any]: ...


def column_label(columns: Columns) -> Label:
    """A field's header in the output language (:meth:`pollnet.registry.Column.header`)."""

    def label(key: str) -> str:
        return columns.by_key[key].header(current_language())

    return label


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


def echo_records(
    records: Sequence[Record], keys: Sequence[str], label: Label, total: str, as_json: bool
) -> None:
    """``records`` as a JSON array, or as a table of the columns ``keys`` and ``total``."""
    if as_json:
        echo_json([r.as_dict() for r in records])
    else:
        print_table([r.as_dict() for r in records], keys, label, total)


def echo_record(record: Record, label: Label, as_json: bool) -> None:
    """One record as a JSON object, or a field per line."""
    if as_json:
        echo_json(record.as_dict())
    else:
        print_record(record.as_dict(), label)
