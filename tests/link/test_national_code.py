"""The national code check digit, on known codes and on generated ones."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from pollnet.link.national_code import (
    age_on,
    check_digit,
    is_valid_national_code,
    normalise_national_code,
)

nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


def test_known_codes() -> None:
    assert is_valid_national_code("0499370899")
    assert is_valid_national_code("0013542419")
    assert not is_valid_national_code("0499370898")
    assert not is_valid_national_code("049937089")
    assert not is_valid_national_code("04993708990")
    assert not is_valid_national_code("")


def test_all_same_digit_codes_are_invalid_though_their_sum_checks() -> None:
    for d in "0123456789":
        code = d * 10
        assert check_digit(code[:9]) == int(code[9])  # the check digit alone would pass it
        assert not is_valid_national_code(code)


def test_persian_and_arabic_digits_and_dashes() -> None:
    assert normalise_national_code("۰۴۹۹۳۷۰۸۹۹") == "0499370899"
    assert normalise_national_code("٠٤٩٩٣٧٠٨٩٩") == "0499370899"
    assert normalise_national_code(" 049-937089-9 ") == "0499370899"
    assert normalise_national_code("04993708٩x") is None


@given(nine_digits)
def test_the_right_check_digit_makes_a_valid_code(first: str) -> None:
    code = first + str(check_digit(first))
    assert is_valid_national_code(code) == (code != code[0] * 10)


@given(nine_digits, st.integers(1, 9))
def test_any_other_check_digit_is_invalid(first: str, shift: int) -> None:
    wrong = (check_digit(first) + shift) % 10
    if wrong == check_digit(first):  # check digit 10 cannot happen; keep the test honest
        return
    assert not is_valid_national_code(first + str(wrong))


@given(st.text(max_size=14))
def test_text_that_is_not_ten_digits_is_invalid(text: str) -> None:
    digits = normalise_national_code(text)
    if digits is not None:
        assert len(digits) == 10 and digits.isdigit()


def test_age_on_election_day() -> None:
    election = dt.date(2028, 2, 25)
    assert age_on(dt.date(2010, 2, 25), election) == 18
    assert age_on(dt.date(2010, 2, 26), election) == 17
    assert age_on(dt.date(2008, 2, 29), election) == 19
