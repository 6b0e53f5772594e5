"""``--help`` in the active language: click's help layout with every text looked up in the
catalogs (headings, usage, descriptions, the help of options and commands).

A text without a translation is shown as written (English). Commands' one-line summaries are
taken whole from their first sentence, not cut at a width, so that they can be found in the
catalogs.
"""

from __future__ import annotations

from collections.abc import Iterable

import click

from pollnet.i18n import catalog, current_language, gettext

__all__ = ["HelpContext", "first_sentence", "paragraphs", "translate_help"]

_TRUNCATED = "..."


def first_sentence(text: str) -> str:
    """The first sentence of a docstring or help text (click's summary, never cut short)."""
    words: list[str] = []
    for word in text.strip().split("\n\n")[0].split():
        words.append(word)
        if word.endswith("."):
            break
    return " ".join(words)


def paragraphs(text: str) -> list[str]:
    """The paragraphs of a help text, each on one line (how the catalogs hold them)."""
    return [" ".join(part.split()) for part in text.split("\n\n") if part.strip()]


def _lookup(text: str) -> str:
    """``text`` in the active language; a summary cut short by click is found by its start."""
    lang = current_language()
    text = " ".join(text.split())
    translated = gettext(text, lang)
    if translated != text or lang == "en" or not text.endswith(_TRUNCATED):
        return translated
    stem = text[: -len(_TRUNCATED)]
    for msgid, value in catalog(lang).items():
        if msgid.startswith(stem):
            return value
    return text


def _split_default(text: str) -> tuple[str, str]:
    """A help text and its bracketed tail click adds (``"  [default: 30]"``)."""
    if text.startswith("["):  # an option with no help of its own
        return "", text
    head, sep, tail = text.partition("  [")
    return head, (sep + tail) if sep else ""


class TranslatingFormatter(click.HelpFormatter):
    """click's help formatter, every text through the translation layer."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        if prefix is None:
            prefix = gettext("Usage:") + " "
        super().write_usage(prog, args, prefix)

    def write_heading(self, heading: str) -> None:
        super().write_heading(gettext(heading))

    def write_text(self, text: str) -> None:
        # a description is looked up paragraph by paragraph, so that each has its own entry
        super().write_text("\n\n".join(_lookup(part) for part in paragraphs(text)))

    def write_dl(
        self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2
    ) -> None:
        translated = []
        for term, definition in rows:
            head, tail = _split_default(definition)
            tail = tail.replace("default:", gettext("default:")).replace(
                "required", gettext("required")
            )
            translated.append((term, _lookup(head) + tail))
        super().write_dl(translated, col_max, col_spacing)


class HelpContext(click.Context):
    """A context whose help is written in the active language."""

    formatter_class = TranslatingFormatter


def translate_help(commands: Iterable[click.Command]) -> None:
    """Give ``commands`` and every subcommand below them the translated help."""
    for command in commands:
        command.context_class = HelpContext
        if isinstance(command, click.Group):
            translate_help(command.commands.values())
