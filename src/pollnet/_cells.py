"""Cells of the files pollnet writes for people to open in a spreadsheet (CSV and XLSX).

Excel and LibreOffice run a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return as a formula (``=HYPERLINK(…)``, ``=cmd|' /C calc'!A0``), and openpyxl writes
such a string as a live formula. OWASP's rule: write it with a leading ``'``, which makes it
text. Every writer passes its cells through :func:`safe_cell`; the readers undo it with
:func:`unquote_cell`, so an exported station file imports back unchanged.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import IO, Any, TypeVar

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a cell a spreadsheet would read as a formula begins with."""

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_T = TypeVar("_T")


def safe_cell(value: _T) -> _T | str:
    """``value`` as a spreadsheet should show it: text that begins like a formula gets a
    leading ``'``; numbers, and text that is a plain number (``-12.5``), stay as they are.
    Text whose ``'`` would be taken for that quote (``'=x``) gets one more, to read back whole."""
    if isinstance(value, str) and _is_formula(value.lstrip("'")):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """Every cell of a row through :func:`safe_cell`."""
    return [safe_cell(value) for value in values]


def unquote_cell(text: str) -> str:
    """The cell :func:`safe_cell` was given: its added ``'`` is dropped."""
    if text[:1] == "'" and _is_formula(text.lstrip("'")):
        return text[1:]
    return text


def _is_formula(text: str) -> bool:
    return text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text)


class CsvWriter:
    """A :func:`csv.writer` whose every cell goes through :func:`safe_cell`."""

    def __init__(self, file: IO[str], **options: Any) -> None:
        self._writer = csv.writer(file, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        self._writer.writerows(map(safe_row, rows))


def append_row(sheet: Any, values: Iterable[Any]) -> None:
    """Append a row to an openpyxl worksheet, every cell through :func:`safe_cell`."""
    sheet.append(safe_row(values))
