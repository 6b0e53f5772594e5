"""``pollnet stations``: import, list, show and export the polling-station registry."""

from __future__ import annotations

import click


@click.group()
def stations() -> None:
    """The polling-station registry."""


COMMANDS = [stations]
