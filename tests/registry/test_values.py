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


_number_cell = st.one_of(
    st.integers(min_value=-(10**6), max_value=10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(alphabet="0123456789.+-e,٣ ", max_size=6),
)


@given(st.lists(_number_cell, max_size=6))
def test_the_column_fast_paths_agree_with_the_cell_parsers(cells: list[str]) -> None:
    from pollnet.registry._values import plain_decimals, plain_ints

    for fast, value in zip(plain_ints(cells), cells, strict=True):
        assert fast is None or fast == parse_int(value)
    for fast_float, value in zip(plain_decimals(cells), cells, strict=True):
        assert fast_float is None or fast_float == parse_decimal(value)
    if all(c.isascii() and c.isdigit() for c in cells):
        assert plain_ints(cells) == [int(c) for c in cells]


def test_only_ascii_digits_count_after_normalising() -> None:
    assert parse_int("५") is None  # a Devanagari digit is not one of ours
    assert parse_decimal("३.५") is None
