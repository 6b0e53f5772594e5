"""The ``pollnet`` command line: a thin layer over the library, one module per command group.

Exit codes: 0 success, 1 a user error (one clear line per problem, never a traceback), 2 usage.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pollnet import __version__
from pollnet.cli._common import App, echo_error
from pollnet.errors import UserError
from pollnet.i18n import set_language
from pollnet.settings import LANGUAGES, load


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db", "db_url", envvar="POLLNET_DB", help="Database URL (sqlite:///… or postgresql://…)."
)
@click.option(
    "--lang", type=click.Choice(LANGUAGES), envvar="POLLNET_LANG", help="Output language."
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="POLLNET_CONFIG",
    help="Settings file (TOML).",
)
@click.version_option(__version__, prog_name="pollnet")
@click.pass_context
def cli(ctx: click.Context, db_url: str | None, lang: str | None, config: Path | None) -> None:
    """pollnet: connect every polling station to a secure fiber network."""
    if lang:  # so that an error in the settings file is already in the chosen language
        set_language(lang)
    settings = load(config).with_overrides(db_url=db_url, lang=lang)
    set_language(settings.lang)
    ctx.obj = App(settings)


def _register() -> None:
    from pollnet.cli import (
        demo,
        device,
        devices,
        pki,
        plan,
        readiness,
        report,
        roll,
        schedule,
        serve,
        simulate,
        stations,
        status,
        streets,
        synth,
        work,
    )

    for module in (
        demo,
        stations,
        synth,
        pki,
        devices,
        serve,
        status,
        streets,
        plan,
        work,
        schedule,
        readiness,
        report,
        device,
        simulate,
        roll,
    ):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; user errors become translated lines on stderr and exit code 1."""
    try:
        cli.main(args=argv, prog_name="pollnet", standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except UserError as exc:
        for line in exc.render():
            echo_error(line)
        sys.exit(1)
    except BrokenPipeError:
        sys.exit(0)
    sys.exit(0)
