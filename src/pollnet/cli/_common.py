"""What every command shares: the application context, JSON output, progress, error lines."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.engine import Engine

from pollnet.i18n import gettext, set_language
from pollnet.settings import Settings, load


@dataclass
class App:
    """The options of this invocation; its settings, built on first use; the store, opened on
    first use.

    ``--config``, ``--db`` and ``--lang`` may stand before or after the subcommand, so the
    settings are built only once every option has been read (when a command starts).
    """

    config: Path | None = None
    db_url: str | None = None
    lang: str | None = None
    _settings: Settings | None = field(default=None, repr=False)
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        """The settings file (or ``./pollnet.toml``) and environment, with this run's options."""
        if self._settings is None:
            self._settings = load(self.config).with_overrides(db_url=self.db_url, lang=self.lang)
            set_language(self._settings.lang)
        return self._settings

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from pollnet.store import open_store

            self._engine = open_store(self.settings.db_url)
        return self._engine

    def close(self) -> None:
        """Close the store's connections, if it was opened (at the end of the invocation)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


pass_app = click.make_pass_decorator(App)


class Verbatim:
    """A message parameter shown as written (serials, paths, URLs): no Persian digits."""

    def __init__(self, text: object) -> None:
        self.text = str(text)

    def __str__(self) -> str:
        return self.text


def stdout() -> Console:
    """A console on standard output (plain text when it is not a terminal)."""
    return Console(highlight=False, soft_wrap=True)


def stderr() -> Console:
    """A console on standard error."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


def echo_error(line: str) -> None:
    """One error line on standard error, prefixed with the translated word for error."""
    click.echo(f"{gettext('error')}: {line}", err=True)


def echo_warning(line: str) -> None:
    """One warning line on standard error, prefixed with the translated word for warning."""
    click.echo(f"{gettext('warning')}: {line}", err=True)


def echo_json(value: Any) -> None:
    """``value`` as JSON on standard output (UTF-8, not ASCII-escaped)."""
    click.echo(json.dumps(value, ensure_ascii=False, default=str))


@contextmanager
def progress(description: str, total: int | None = None) -> Iterator[Callable[..., None]]:
    """A rich progress bar on standard error, only when it is a terminal (a pipe or a file gets
    nothing); yields ``advance(n=1, description=None)``, which may also name the next step.

    It is drawn at once and after every step, and gone before the command prints its result.
    """
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    console = stderr()
    with Progress(
        *columns, console=console, transient=True, disable=not console.is_terminal
    ) as bar:
        task = bar.add_task(description, total=total)
        bar.refresh()

        def advance(n: int = 1, description: str | None = None) -> None:
            bar.update(task, advance=n, description=description)
            bar.refresh()

        yield advance


@contextmanager
def busy(description: str) -> Iterator[None]:
    """:func:`progress` for a step of unknown length: a spinner and the time it has taken."""
    with progress(description):
        yield


def iter_with_progress(items: Iterable[Any], description: str, total: int) -> Iterator[Any]:
    """Iterate ``items`` while a progress bar counts them."""
    with progress(description, total) as advance:
        for item in items:
            yield item
            advance()
