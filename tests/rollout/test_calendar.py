"""The working calendar: the Iranian week, Jalali holidays, working-day arithmetic."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pollnet.errors import ConfigError
from pollnet.rollout.calendar import WorkCalendar
from pollnet.rollout.templates import load_config
from pollnet.values import parse_date

DEFAULT = load_config().calendar
FULL_THURSDAY = WorkCalendar.from_config({"thursday": "full", "holidays": ["1405/06/31"]})


def j(text: str) -> dt.date:
    return parse_date(text)


def test_friday_is_off_and_thursday_is_half() -> None:
    thursday, friday, saturday = j("1405/09/05"), j("1405/09/06"), j("1405/09/07")
    assert friday.weekday() == 4
    assert DEFAULT.capacity(friday) == 0.0
    assert DEFAULT.capacity(thursday) == 0.5
    assert DEFAULT.capacity(saturday) == 1.0


def test_default_holidays_include_nowruz_and_the_fixed_days() -> None:
    for day in (
        "1406/01/01",
        "1406/01/04",
        "1406/01/12",
        "1406/01/13",
        "1406/03/14",
        "1406/03/15",
        "1406/11/22",
        "1406/12/29",
    ):
        assert DEFAULT.capacity(j(day)) == 0.0, day
    assert DEFAULT.capacity(j("1406/01/07")) == 1.0  # a Saturday, no holiday


def test_adding_days_skips_nowruz() -> None:
    # 1405/12/26 is a Wednesday; then a half Thursday, Friday, 29 Esfand and Nowruz (1-4
    # Farvardin) off, a half Thursday (5 Farvardin) and Friday: the next full day is the 7th.
    start = j("1405/12/26")
    assert start.weekday() == 2
    assert DEFAULT.add_working_days(start, 1) == j("1405/12/27")
    assert DEFAULT.add_working_days(start, 2) == j("1406/01/07")
    assert DEFAULT.working_days_between(start, j("1406/01/07")) == 2.0
    assert DEFAULT.subtract_working_days(j("1406/01/07"), 2) == start


def test_arithmetic_across_a_jalali_month_end() -> None:
    # Shahrivar 1405 has 31 days; 1405/06/31 is a holiday in this calendar.
    start = j("1405/06/29")  # a Sunday
    assert start.weekday() == 6
    assert FULL_THURSDAY.add_working_days(start, 2) == j("1405/07/01")  # skips the 31st
    assert FULL_THURSDAY.working_days_between(start, j("1405/07/01")) == 2.0
    assert FULL_THURSDAY.subtract_working_days(j("1405/07/01"), 2) == start


days = st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2029, 12, 31))
holidays = st.lists(days, max_size=30)


@given(
    start=days,
    n=st.integers(min_value=0, max_value=400),
    extra=holidays,
    thursday=st.sampled_from(["full", "off"]),
)
def test_adding_then_counting_back_gives_n(
    start: dt.date, n: int, extra: list[dt.date], thursday: str
) -> None:
    calendar = WorkCalendar.from_config(
        {"thursday": thursday, "holidays": [d.isoformat() for d in extra]}
    )
    end = calendar.add_working_days(start, n)
    assert calendar.working_days_between(start, end) == n
    assert calendar.working_days_between(end, start) == -n
    assert calendar.capacity(end) > 0


@given(start=days, n=st.integers(min_value=0, max_value=300))
def test_half_thursdays_overshoot_by_at_most_half_a_day(start: dt.date, n: int) -> None:
    end = DEFAULT.add_working_days(start, n)
    assert n <= DEFAULT.working_days_between(start, end) <= n + 0.5
    assert DEFAULT.capacity(end) > 0


@given(end=days, n=st.integers(min_value=0, max_value=300))
def test_subtracting_is_the_last_day_with_enough_work(end: dt.date, n: int) -> None:
    start = DEFAULT.subtract_working_days(end, n)
    assert DEFAULT.working_days_between(start, end) >= n
    assert DEFAULT.working_days_between(start + dt.timedelta(days=1), end) < n or n == 0


def test_bad_calendar_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown weekday"):
        WorkCalendar.from_config({"weekend": ["funday"]})
    with pytest.raises(ConfigError, match="thursday must be"):
        WorkCalendar.from_config({"thursday": "sometimes"})
    with pytest.raises(ConfigError, match="not a date"):
        WorkCalendar.from_config({"holidays": ["Nowruz"]})


def test_weekend_is_configurable() -> None:
    calendar = WorkCalendar.from_config({"weekend": ["thursday", "friday"]})
    assert calendar.capacity(j("1405/09/05")) == 0.0
