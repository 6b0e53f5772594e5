"""Parsers for the cells of a station file, after :func:`pollnet.i18n.normalise`.

Each returns ``None`` for text it cannot read, so the validator can say what is wrong and where.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from pollnet.i18n import normalise

_INTEGER = re.compile(r"[+-]?[0-9]+(?:\.0*)?")
_GROUPED_INTEGER = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_SPACES = re.compile(r"\s+")
# A whole column of plain cells, each followed by a cell break: the common, fast case.
_PLAIN_INTS = re.compile(r"(?:[0-9]{1,18}\x00)*")
_PLAIN_DECIMALS = re.compile(r"(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\x00)*")
# Joins cells for one pass of the normaliser; not whitespace, so it keeps cells apart.
_CELL_BREAK = "\x00"

FLAG_WORDS = {
    **dict.fromkeys(("yes", "y", "true", "1", "بله", "بلی", "آری"), True),
    **dict.fromkeys(("no", "n", "false", "0", "خیر", "نه"), False),
}


_MAX_DIGITS = 1000  # far beyond any count, far below what Python converts (4,300 digits)


def parse_int(text: str) -> int | None:
    """A whole number: ``1200``, ``1,200``, ``1200.0`` (as spreadsheets write it); else None,
    also for numbers of more than 1,000 digits."""
    if len(text) > _MAX_DIGITS:
        return None
    if _INTEGER.fullmatch(text):
        return int(text.split(".", 1)[0])
    if _GROUPED_INTEGER.fullmatch(text):
        return int(text.replace(",", ""))
    return None


def is_plain_decimal(text: str) -> bool:
    """Whether ``text`` is a decimal number with a ``.`` separator and no exponent."""
    return _DECIMAL.fullmatch(text) is not None


def parse_decimal(text: str) -> float | None:
    """A finite decimal number with a ``.`` separator (``35.7``, ``-0.5``, ``.5``); else None."""
    if not is_plain_decimal(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def plain_ints(texts: list[str]) -> list[int | None]:
    """Each cell as a whole number if it is plain ASCII digits, else None (the caller looks
    closer); one regular-expression match decides for a column where every cell is plain."""
    if _PLAIN_INTS.fullmatch(_CELL_BREAK.join(texts) + _CELL_BREAK):
        return list(map(int, texts))
    return [int(t) if t.isdigit() and t.isascii() and len(t) <= 18 else None for t in texts]


def plain_decimals(texts: list[str]) -> list[float | None]:
    """Each cell as a float if it is a plain decimal (see :func:`is_plain_decimal`), else None."""
    if _PLAIN_DECIMALS.fullmatch(_CELL_BREAK.join(texts) + _CELL_BREAK):
        return list(map(float, texts))
    return [float(t) if is_plain_decimal(t) else None for t in texts]


def parse_flag(text: str) -> bool | None:
    """A yes/no value in English or Persian (case-insensitive); else None."""
    return FLAG_WORDS.get(text.casefold())


def normalise_column(cells: Sequence[str]) -> list[str]:
    """``[normalise(c) for c in cells]``, done in one pass over the joined column (faster).

    Plain ASCII needs only its spaces collapsed: every other step of :func:`normalise` concerns
    non-ASCII characters.
    """
    unique = list(dict.fromkeys(cells))  # sites and numbers repeat: normalise each once
    joined = _CELL_BREAK.join(unique)
    if not unique or joined.count(_CELL_BREAK) != len(unique) - 1:
        return [normalise(cell) for cell in cells]
    if joined.isascii():
        clean = [cell.strip(" ") for cell in _SPACES.sub(" ", joined).split(_CELL_BREAK)]
    else:
        clean = [cell.strip(" \u200c") for cell in normalise(joined).split(_CELL_BREAK)]
    if len(unique) == len(cells):
        return clean
    lookup = dict(zip(unique, clean, strict=True))
    return [lookup[cell] for cell in cells]
