"""Dates in both calendars, in and out."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pollnet.errors import UserError
from pollnet.i18n import format_date, to_jalali
from pollnet.values import parse_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1402/12/10", dt.date(2024, 2, 29)),
        ("۱۴۰۲/۱۲/۱۰", dt.date(2024, 2, 29)),
        ("1403-01-01", dt.date(2024, 3, 20)),
        ("2024-03-01", dt.date(2024, 3, 1)),
        ("1402/12/29", dt.date(2024, 3, 19)),
    ],
)
def test_parse_both_calendars(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["1402/13/01", "1402/12/31", "2024-02-30", "tomorrow", ""])
def test_bad_dates_name_the_place(text: str) -> None:
    with pytest.raises(UserError) as info:
        parse_date(text, source="work.csv", row=4, column="date")
    assert info.value.render("en")[0].startswith("work.csv, row 4, column date: ")


def test_format_for_each_language() -> None:
    day = dt.date(2024, 3, 20)
    assert format_date(day, "en") == "2024-03-20"
    assert format_date(day, "fa") == "۱۴۰۳/۰۱/۰۱"


@given(st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_jalali_round_trip(day: dt.date) -> None:
    assert parse_date(to_jalali(day)) == day
    assert parse_date(day.isoformat()) == day
