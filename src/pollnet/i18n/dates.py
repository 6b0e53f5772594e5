"""Jalali and Gregorian dates for display: Persian output is Jalali with Persian digits,
English output is ISO Gregorian. (Reading dates people type: :func:`pollnet.values.parse_date`.)
"""

from __future__ import annotations

import datetime as dt

import jdatetime

from pollnet.i18n.digits import to_persian_digits


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
