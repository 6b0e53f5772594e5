"""The Iranian national code (کد ملی): ten digits, the last a check digit over the first nine.

The check digit ``c`` of digits ``d0 .. d8`` is computed from ``s = sum(d[i] * (10 - i))``:
with ``r = s % 11``, ``c = r`` when ``r < 2`` and ``c = 11 - r`` otherwise. A code whose ten
digits are all the same passes that sum but is never issued, so it is invalid too. Persian and
Arabic-Indic digits are accepted and read as their ASCII forms.
"""

from __future__ import annotations

import datetime as dt
from operator import mul

from pollnet.i18n.digits import to_ascii_digits

LENGTH = 10
_WEIGHTS = tuple(range(LENGTH, 1, -1))


def normalise_national_code(text: str) -> str | None:
    """The code as ten ASCII digits, or ``None`` when it is not a valid national code.

    Surrounding spaces and dashes between digit groups (``049-937089-9``) are dropped; anything
    else that is not a digit makes the code invalid.
    """
    if len(text) == LENGTH and text.isascii():  # the usual case: nothing to translate
        code = text
    else:
        code = to_ascii_digits(text).strip().replace("-", "")
    if len(code) != LENGTH or not code.isascii() or not code.isdigit():
        return None
    if code == code[0] * LENGTH:
        return None
    if int(code[9]) != check_digit(code[:9]):
        return None
    return code


def is_valid_national_code(text: str) -> bool:
    """Whether ``text`` is a valid national code (see :func:`normalise_national_code`)."""
    return normalise_national_code(text) is not None


def check_digit(first_nine: str) -> int:
    """The check digit of the first nine digits of a national code."""
    total: int = sum(map(mul, map(int, first_nine), _WEIGHTS))
    rest = total % 11
    return rest if rest < 2 else 11 - rest


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Age in whole years on ``day`` of someone born on ``birth_date`` (Gregorian dates)."""
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years
