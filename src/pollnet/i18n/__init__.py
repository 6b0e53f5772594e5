"""The one translation layer: every user-facing string goes through :func:`gettext`.

Messages are English msgids; the Persian catalogs are gettext ``.po`` files under
``locale/fa/LC_MESSAGES/`` (one per area of the package, all merged), read with Babel. Persian
output writes numbers in Persian digits and dates in the Jalali calendar.

The active language lives in a context variable set once by the CLI or the service
(:func:`set_language`); functions take an explicit ``lang`` where they need another one.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from importlib import resources
from typing import Any

from pollnet.i18n.dates import format_date, format_moment, to_jalali
from pollnet.i18n.digits import normalise, normalise_key, to_ascii_digits, to_persian_digits

__all__ = [
    "Digits",
    "current_language",
    "format_date",
    "format_moment",
    "format_number",
    "gettext",
    "join_list",
    "localise_text",
    "localise_value",
    "normalise",
    "normalise_key",
    "set_language",
    "to_ascii_digits",
    "to_jalali",
    "to_persian_digits",
    "tr",
    "use_language",
]

DOMAIN_DIR = "locale"
_language: contextvars.ContextVar[str] = contextvars.ContextVar("pollnet_language", default="fa")


def set_language(lang: str) -> None:
    """Make ``lang`` (``fa`` or ``en``) the active language of this context."""
    _language.set(lang)


def current_language() -> str:
    """The active language."""
    return _language.get()


@contextmanager
def use_language(lang: str) -> Iterator[None]:
    """Within the block, ``lang`` is the active language."""
    token = _language.set(lang)
    try:
        yield
    finally:
        _language.reset(token)


@functools.cache
def catalog(lang: str) -> Mapping[str, str]:
    """Every translated message of ``lang``, merged from all its ``.po`` files."""
    from babel.messages.pofile import read_po

    messages: dict[str, str] = {}
    folder = resources.files("pollnet.i18n").joinpath(DOMAIN_DIR, lang, "LC_MESSAGES")
    if not folder.is_dir():
        return messages
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".po"):
            continue
        with entry.open("rb") as fh:
            for message in read_po(fh):
                if message.id and message.string and not message.fuzzy:
                    key = message.id if isinstance(message.id, str) else message.id[0]
                    value = message.string if isinstance(message.string, str) else message.string[0]
                    messages[key] = value
    return messages


def gettext(message: str, lang: str | None = None) -> str:
    """``message`` (an English msgid) in ``lang``, or the active language."""
    lang = lang or current_language()
    if lang == "en":
        return message
    return catalog(lang).get(message, message)


def tr(message: str, lang: str | None = None, **params: Any) -> str:
    """Translate ``message`` and fill its ``{name}`` placeholders with localised ``params``."""
    lang = lang or current_language()
    return gettext(message, lang).format(
        **{key: localise_value(value, lang) for key, value in params.items()}
    )


def join_list(items: Iterable[str], lang: str | None = None) -> str:
    """``items`` one after the other, separated by the Persian comma in Persian, ``, `` else."""
    return ("، " if (lang or current_language()) == "fa" else ", ").join(items)


def format_number(value: float, lang: str | None = None, decimals: int | None = None) -> str:
    """A number with thousands separators, in Persian digits for Persian."""
    lang = lang or current_language()
    if decimals is None:
        text = f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"
    else:
        text = f"{value:,.{decimals}f}"
    if lang == "fa":
        return to_persian_digits(text.replace(",", "٬").replace(".", "٫"))
    return text


def localise_text(text: str, lang: str | None = None) -> str:
    """Free text for display: Persian digits in Persian."""
    lang = lang or current_language()
    return to_persian_digits(text) if lang == "fa" else text


class Digits(str):
    """Text pollnet made of its own numbers (a range of rows ``"1-3, 7"``): as a message
    parameter its digits are localised like a number's, unlike the user's own values."""

    __slots__ = ()

    @classmethod
    def ranges(cls, numbers: Iterable[int]) -> Digits:
        """Whole numbers as ranges: ``[1, 2, 3, 7]`` -> ``"1-3, 7"`` (sorted, duplicates once)."""
        parts: list[list[int]] = []
        for n in sorted(set(numbers)):
            if parts and n == parts[-1][1] + 1:
                parts[-1][1] = n
            else:
                parts.append([n, n])
        return cls(", ".join(str(a) if a == b else f"{a}-{b}" for a, b in parts))


def localise_value(value: Any, lang: str | None = None) -> Any:
    """A message parameter ready for display in ``lang``: numbers and dates localised."""
    lang = lang or current_language()
    if isinstance(value, Digits):
        return localise_text(value, lang)
    if isinstance(value, bool):
        return gettext("yes" if value else "no", lang)
    if isinstance(value, dt.date):
        return format_date(value, lang)
    if isinstance(value, float) and lang == "fa":  # the Persian decimal separator, as numbers
        return to_persian_digits(str(value).replace(".", "٫"))
    if isinstance(value, int | float):
        return localise_text(str(value), lang)
    # Strings are the user's own values (codes, cells, paths): shown exactly as written, so that
    # they can be found in the file.
    return value
