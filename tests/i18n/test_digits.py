"""Persian text normalisation: digits, letters, spaces, ZWNJ."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pollnet.i18n import normalise, normalise_key, to_ascii_digits, to_persian_digits


def test_mixed_digits_become_ascii() -> None:
    assert to_ascii_digits("۱۲٣4") == "1234"
    assert normalise("  ۳۵٫۷۰ ") == "35.70"


def test_arabic_letters_become_persian() -> None:
    assert normalise("مدرسه علي كريمي") == "مدرسه علی کریمی"


def test_zwnj_inside_a_word_is_kept_and_stray_ones_go() -> None:
    assert normalise("\u200cمی\u200cرود \u200c ") == "می\u200cرود"
    assert normalise("کد\u200c \u200cشعبه") == "کد شعبه"


def test_header_keys_compare_equal_across_spellings() -> None:
    assert normalise_key(" تعداد\u200cواجدين ") == normalise_key("تعداد واجدین")
    assert normalise_key("Code ") == "code"


@given(st.integers(min_value=0, max_value=10**12))
def test_persian_digits_round_trip(n: int) -> None:
    persian = to_persian_digits(str(n))
    assert all(not ch.isascii() for ch in persian)
    assert int(to_ascii_digits(persian)) == n


@given(st.text())
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
