"""The cell parsers and the column normaliser, on examples and on generated text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pollnet.i18n import normalise, to_persian_digits
from pollnet.registry import parse_decimal, parse_flag, parse_int
from pollnet.registry._values import normalise_column


def test_integers_as_people_and_spreadsheets_write_them() -> None:
    assert parse_int("1200") == 1200
    assert parse_int("1,200") == 1200
    assert parse_int("1200.0") == 1200
    assert parse_int("-3") == -3
    for bad in ("12.5", "1,20", "abc", "", "1_000", "1e3", "12 3"):
        assert parse_int(bad) is None, bad


def test_decimals_need_a_dot_and_no_exponent() -> None:
    assert parse_decimal("35.7") == 35.7
    assert parse_decimal(".5") == 0.5
    assert parse_decimal("-51") == -51.0
    for bad in ("35,7", "nan", "inf", "1e5", "35.7.1", "", "N35"):
        assert parse_decimal(bad) is None, bad


def test_flags_in_english_and_persian() -> None:
    assert parse_flag("Yes") is True
    assert parse_flag("بله") is True
    assert parse_flag("1") is True
    assert parse_flag("FALSE") is False
    assert parse_flag("خیر") is False
    assert parse_flag("maybe") is None


@given(st.integers(min_value=0, max_value=10**15))
def test_whole_numbers_round_trip_through_persian_digits(n: int) -> None:
    assert parse_int(normalise(to_persian_digits(str(n)))) == n
    assert parse_int(normalise(to_persian_digits(f"{n:,}"))) == n


@given(st.floats(min_value=-180, max_value=180, allow_nan=False))
def test_decimals_round_trip_exactly_from_repr(x: float) -> None:
    text = repr(x)
    if "e" not in text:
        assert parse_decimal(text) == x
        assert parse_decimal(normalise(to_persian_digits(text).replace(".", "٫"))) == x


_cell = st.text(
    alphabet=st.sampled_from(list("ab 1۱١يىكی\u200c\u00a0\t\ufeff٫٬-,.")) | st.characters(),
    max_size=12,
)


@given(st.lists(_cell, max_size=8))
def test_the_column_normaliser_equals_normalising_each_cell(cells: list[str]) -> None:
    assert normalise_column(cells) == [normalise(cell) for cell in cells]


@given(st.lists(st.text(alphabet=st.characters(max_codepoint=127), max_size=8), max_size=8))
def test_the_column_normaliser_equals_normalise_on_ascii(cells: list[str]) -> None:
    assert normalise_column(cells) == [normalise(cell) for cell in cells]
