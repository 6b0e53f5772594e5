"""Jalali and Gregorian dates: parsing either, formatting for the active language.

Input accepts ISO Gregorian (``2024-03-01``) and Jalali (``1402/12/10``, also with ``-`` and in
Persian digits); a year below 1700 is taken as Jalali. Persian output is Jalali with Persian
digits; English output is ISO Gregorian.
"""

from __future__ import annotations

import datetime as dt
import re

import jdatetime

from pollnet.errors import UserError
from pollnet.i18n.digits import to_ascii_digits, to_persian_digits

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


def to_jalali(day: dt.date) -> str:
    """``day`` as a Jalali ``YYYY/MM/DD`` string in ASCII digits."""
    j = jdatetime.date.fromgregorian(date=day)
    return f"{j.year:04d}/{j.month:02d}/{j.day:02d}"


def format_date(day: dt.date, lang: str) -> str:
    """``day`` for display: Jalali in Persian digits for ``fa``, ISO for ``en``."""
    if lang == "fa":
        return to_persian_digits(to_jalali(day))
    return day.isoformat()


def format_moment(moment: dt.datetime, lang: str, *, seconds: bool = False) -> str:
    """An instant for display in the machine's local time zone: the date as
    :func:`format_date` writes it, then ``HH:MM`` (``HH:MM:SS`` with ``seconds``), in Persian
    digits for ``fa``. A naive ``moment`` is taken as UTC (as the database stores it)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone()
    clock = local.strftime("%H:%M:%S" if seconds else "%H:%M")
    if lang == "fa":
        clock = to_persian_digits(clock)
    return f"{format_date(local.date(), lang)} {clock}"
