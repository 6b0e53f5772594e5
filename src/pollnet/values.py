"""Values people type, read with a :class:`~pollnet.errors.UserError` that says where.

Dates: ISO Gregorian (``2024-03-01``) and Jalali (``1402/12/10``, also with ``-`` and in
Persian digits); a year below 1700 is taken as Jalali.
"""

from __future__ import annotations

import datetime as dt
import re

import jdatetime

from pollnet.errors import UserError
from pollnet.i18n.digits import to_ascii_digits

_DATE = re.compile(r"^\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\s*$")
JALALI_YEAR_LIMIT = 1700


def parse_date(
    text: str, *, source: str | None = None, row: int | None = None, column: str | None = None
) -> dt.date:
    """A Gregorian date from Jalali or Gregorian text; a clear :class:`UserError` otherwise."""
    match = _DATE.match(to_ascii_digits(str(text)))
    if match is None:
        raise UserError.of(
            "not a date: {value} (use 1402/12/10 or 2024-03-01)",
            file=source,
            row=row,
            column=column,
            value=str(text),
        )
    year, month, day = (int(g) for g in match.groups())
    try:
        if year < JALALI_YEAR_LIMIT:
            gregorian: dt.date = jdatetime.date(year, month, day).togregorian()
            return gregorian
        return dt.date(year, month, day)
    except ValueError:
        raise UserError.of(
            "no such day: {value}", file=source, row=row, column=column, value=str(text)
        ) from None
