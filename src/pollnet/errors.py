"""The one exception hierarchy of pollnet.

A :class:`UserError` is a problem with what the user gave us (a file, an option, a row); the CLI
prints it as one translated line and exits with code 1. Anything else is a bug and may show a
traceback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pollnet.i18n import format_number, join_list, tr


@dataclass(frozen=True)
class Location:
    """Where a problem is: a file, a data row (counted from 1, header not counted) or a feature
    of a geographic file (counted from 1), a column (or a feature's property)."""

    file: str | None = None
    row: int | None = None
    column: str | None = None
    feature: int | None = None

    def render(self, lang: str | None = None) -> str:
        """``file, row N, column C`` (``file, feature N, column C`` for a geographic file's
        feature) in ``lang``, with the Persian comma in Persian; empty when nothing is known.

        A ``column`` starting with ``--`` is a command-line option and is named as one.
        """
        parts = []
        if self.file:
            parts.append(self.file)
        if self.row is not None:
            parts.append(tr("row {row}", lang, row=self.row))
        if self.feature is not None:
            parts.append(tr("feature {feature}", lang, feature=self.feature))
        if self.column and self.column.startswith("--"):  # a command-line option
            parts.append(tr("option {option}", lang, option=self.column))
        elif self.column:
            parts.append(tr("column {column}", lang, column=self.column))
        return join_list(parts, lang)


class PollnetError(Exception):
    """Base class of every error pollnet raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One translatable complaint about input, with where it happened.

    ``message`` is an English msgid for the translation layer, with ``{name}`` placeholders that
    ``params`` fills in.
    """

    message: str
    params: Mapping[str, Any] = field(default_factory=dict)
    where: Location = field(default_factory=Location)

    def render(self, lang: str | None = None) -> str:
        """The complaint as one line in ``lang`` (default: the active language)."""
        text = tr(self.message, lang, **{k: _shown(v) for k, v in self.params.items()})
        prefix = self.where.render(lang)
        return f"{prefix}: {text}" if prefix else text


MAX_SHOWN = 80
"""Characters of a value a message shows; a longer cell (a 1 MB "number") is cut with ``…``."""

MAX_PRINTED = 100
"""Problems printed for one error; a count says how many more there were."""


def _shown(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        value = str(value)
    if isinstance(value, str) and len(value) > MAX_SHOWN:
        return value[: MAX_SHOWN - 1] + "…"
    return value


class UserError(PollnetError):
    """Input from the user that pollnet cannot accept; carries one or more problems."""

    def __init__(self, problems: Problem | Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = (
            (problems,) if isinstance(problems, Problem) else tuple(problems)
        )
        super().__init__("; ".join(self.render("en", limit=MAX_PRINTED)))

    @classmethod
    def of(
        cls,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        feature: int | None = None,
        **params: Any,
    ) -> UserError:
        """A user error with a single problem."""
        return cls(Problem(message, params, Location(file, row, column, feature)))

    def render(self, lang: str | None = None, limit: int | None = None) -> list[str]:
        """Every problem as a line in ``lang``; with ``limit``, the first ``limit`` of them and
        a last line that counts the rest."""
        if limit is None or len(self.problems) <= limit:
            return [p.render(lang) for p in self.problems]
        more = len(self.problems) - limit
        return [
            *(p.render(lang) for p in self.problems[:limit]),
            tr("… and {count} more problems", lang, count=format_number(more, lang)),
        ]


class ConfigError(UserError):
    """A settings file or environment variable that cannot be used."""


class NotFoundError(UserError):
    """Something named by the user (a station code, a plan id) does not exist."""
