"""The ``pollnet`` command line: a thin layer over the library, one module per command group.

Exit codes: 0 success, 1 a user error (one clear line per problem, never a traceback), 2 usage.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from pollnet import __version__
from pollnet.cli._common import App, echo_error
from pollnet.cli._help import HelpContext, first_sentence, translate_help
from pollnet.errors import MAX_PRINTED, UserError
from pollnet.i18n import set_language
from pollnet.settings import LANGUAGES

# Each command is imported only when it runs (``pollnet --help`` imports them all), so that a
# command pays the start-up time of its own dependencies only. Every module also lists its
# commands in ``COMMANDS``; a test checks this table against them.
LAZY_COMMANDS: dict[str, str] = {
    "areas": "areas:areas",
    "audit": "status:audit",
    "cluster": "cluster:cluster",
    "coverage": "coverage:coverage",
    "dashboard": "dashboard:dashboard",
    "demo": "demo:demo",
    "device": "device:device",
    "devices": "devices:devices",
    "exchanges": "exchanges:exchanges",
    "fiber": "fiber:fiber",
    "log": "log:log",
    "observe": "observe:observe",
    "pki": "pki:pki",
    "plan": "plan:plan",
    "readiness": "readiness:readiness_cmd",
    "report": "report:report",
    "roll": "roll:roll",
    "schedule": "schedule:schedule_cmd",
    "serve": "serve:serve",
    "simulate": "simulate:simulate_command",
    "sites": "sites:sites",
    "stations": "stations:stations",
    "status": "status:status",
    "streets": "streets:streets",
    "synth": "synth:synth",
    "towers": "coverage:towers",
    "users": "users:users",
    "web": "web:web",
    "witness": "witness:witness",
    "work": "work:work",
}
"""Command name -> ``module:attribute`` inside :mod:`pollnet.cli`."""


_DB_HELP = "Database URL (sqlite:///… or postgresql://…)."
_LANG_HELP = "Output language."
_CONFIG_HELP = "Settings file (TOML)."


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """Record a global option given after the subcommand on this invocation's :class:`App`."""
    if value is None:
        return
    app = ctx.find_object(App)
    if app is None:  # the command runs on its own (not under ``pollnet``)
        app = ctx.ensure_object(App)
    setattr(app, str(param.name), value)
    if param.name == "lang":
        set_language(value)


def _global_options() -> list[click.Parameter]:
    """``--db``, ``--lang`` and ``--config`` for a subcommand (they override the ones before it)."""
    return [
        click.Option(
            ["--db", "db_url"], expose_value=False, is_eager=True, callback=_remember, help=_DB_HELP
        ),
        click.Option(
            ["--lang"],
            type=click.Choice(LANGUAGES),
            expose_value=False,
            is_eager=True,
            callback=_remember,
            help=_LANG_HELP,
        ),
        click.Option(
            ["--config"],
            type=click.Path(dir_okay=False, path_type=Path),
            expose_value=False,
            is_eager=True,
            callback=_remember,
            help=_CONFIG_HELP,
        ),
    ]


def _settled(callback: Callable[..., Any]) -> Callable[..., Any]:
    """``callback`` run after the settings are built from every option of the command line."""

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        app = click.get_current_context().find_object(App)
        if app is not None:
            app.settings  # noqa: B018  (builds the settings and sets the language)
        return callback(*args, **kwargs)

    return run


def with_global_options(command: click.Command) -> click.Command:
    """Let ``command`` (and, for a group, every subcommand) take ``--db``, ``--lang`` and
    ``--config`` after its name, as well as before it. Idempotent."""
    if getattr(command, "_pollnet_global_options", False):
        return command
    command.params.extend(_global_options())
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            with_global_options(sub)
    elif command.callback is not None:
        command.callback = _settled(command.callback)
    command._pollnet_global_options = True  # type: ignore[attr-defined]
    return command


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
        with_global_options(command)
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
@click.option("--db", "db_url", envvar="POLLNET_DB", help=_DB_HELP)
@click.option("--lang", type=click.Choice(LANGUAGES), envvar="POLLNET_LANG", help=_LANG_HELP)
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="POLLNET_CONFIG",
    help=_CONFIG_HELP,
)
@click.version_option(__version__, prog_name="pollnet")
@click.pass_context
def cli(ctx: click.Context, db_url: str | None, lang: str | None, config: Path | None) -> None:
    """pollnet: connect every polling station to a secure fiber network.

    --db, --lang and --config may also follow the subcommand.
    """
    if lang:  # so that an error in the settings file is already in the chosen language
        set_language(lang)
    ctx.obj = App(config=config, db_url=db_url, lang=lang)
    ctx.call_on_close(ctx.obj.close)


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
