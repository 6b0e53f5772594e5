"""Persian text normalisation: digits, Arabic letters, spaces and zero-width non-joiners.

Spreadsheets from Persian offices mix Persian (U+06F0..U+06F9), Arabic-Indic (U+0660..U+0669)
and ASCII digits, Arabic yeh/kaf with their Persian forms, and stray ZWNJs; normalising both
headers and values makes them compare equal.
"""

from __future__ import annotations

import re

PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_INDIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
ZWNJ = "\u200c"

_TO_ASCII = str.maketrans(
    {
        **{d: str(i) for i, d in enumerate(PERSIAN_DIGITS)},
        **{d: str(i) for i, d in enumerate(ARABIC_INDIC_DIGITS)},
        "ي": "ی",  # Arabic yeh -> Persian yeh
        "ى": "ی",  # alef maksura, often typed for yeh
        "ك": "ک",  # Arabic kaf -> Persian keheh
        "٫": ".",  # Arabic decimal separator
        "٬": ",",  # Arabic thousands separator
        "\u00a0": " ",  # no-break space
        "\ufeff": "",  # a BOM that leaked into a cell
        "\u200b": "",  # zero-width space
        "\u200e": "",  # left-to-right mark
        "\u200f": "",  # right-to-left mark
    }
)
_TO_PERSIAN = str.maketrans({str(i): d for i, d in enumerate(PERSIAN_DIGITS)})
_SPACES = re.compile(r"\s+")
_ZWNJ_RUN = re.compile(rf"\s*{ZWNJ}[\s{ZWNJ}]*")


def to_ascii_digits(text: str) -> str:
    """``text`` with Persian and Arabic-Indic digits (and Arabic yeh/kaf) in their plain forms."""
    return text.translate(_TO_ASCII)


def to_persian_digits(text: str) -> str:
    """``text`` with ASCII digits written as Persian digits (for display in Persian)."""
    return text.translate(_TO_PERSIAN)


def normalise(text: str) -> str:
    """A cell value as people meant it: plain digits, Persian letters, single spaces.

    A ZWNJ between two letters is kept (it is part of Persian spelling, as in «می‌رود»); ZWNJs
    next to spaces or at either end are dropped.
    """
    text = to_ascii_digits(text)
    text = _ZWNJ_RUN.sub(lambda m: ZWNJ if m.group(0) == ZWNJ else " ", text)
    text = _SPACES.sub(" ", text).strip(" " + ZWNJ)
    return text


def normalise_key(text: str) -> str:
    """A header or a lookup key: :func:`normalise`, without any ZWNJ, case-folded."""
    return _SPACES.sub(" ", normalise(text).replace(ZWNJ, " ")).strip().casefold()
