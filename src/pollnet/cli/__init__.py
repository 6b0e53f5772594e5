"""The ``pollnet`` command line: a thin layer over the library, one module per command group.

Exit codes: 0 success, 1 a user error (one clear line per problem, never a traceback), 2 usage.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click

from pollnet import __version__
from pollnet.cli._common import App, echo_error
from pollnet.cli._help import HelpContext, first_sentence, translate_help
from pollnet.errors import MAX_PRINTED, UserError
from pollnet.i18n import set_language
from pollnet.settings import LANGUAGES, load

# Each command is imported only when it runs (``pollnet --help`` imports them all), so that a
# command pays the start-up time of its own dependencies only. Every module also lists its
# commands in ``COMMANDS``; a test checks this table against them.
LAZY_COMMANDS: dict[str, str] = {
    "areas": "areas:areas",
    "audit": "status:audit",
    "coverage": "coverage:coverage",
    "dashboard": "dashboard:dashboard",
    "demo": "demo:demo",
    "device": "device:device",
    "devices": "devices:devices",
    "exchanges": "exchanges:exchanges",
    "fiber": "fiber:fiber",
    "pki": "pki:pki",
    "plan": "plan:plan",
    "readiness": "readiness:readiness_cmd",
    "report": "report:report",
    "roll": "roll:roll",
    "schedule": "schedule:schedule_cmd",
    "serve": "serve:serve",
    "simulate": "simulate:simulate_command",
    "stations": "stations:stations",
    "status": "status:status",
    "streets": "streets:streets",
    "synth": "synth:synth",
    "towers": "coverage:towers",
    "work": "work:work",
}
"""Command name -> ``module:attribute`` inside :mod:`pollnet.cli`."""


class _LazyGroup(click.Group):
    context_class = HelpContext

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*self.commands, *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in LAZY_COMMANDS:
            return self.commands.get(cmd_name)
        module_name, attribute = LAZY_COMMANDS[cmd_name].split(":")
        module = importlib.import_module(f"pollnet.cli.{module_name}")
        command: click.Command = getattr(module, attribute)
        translate_help([command])
        return command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # ``--help`` is handled while parsing, before ``--lang`` is: read it first
        for i, arg in enumerate(args[:-1]):
            if arg == "--lang" and args[i + 1] in LANGUAGES:
                set_language(args[i + 1])
        return super().parse_args(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, first_sentence(command.short_help or command.help or "")))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
        for line in exc.render(limit=MAX_PRINTED):
            echo_error(line)
        sys.exit(1)
    except BrokenPipeError:
        sys.exit(0)
    sys.exit(0)
