"""``pollnet users``: the accounts of the operations web (add, list, disable, reset a password)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from pollnet.cli._common import App, Verbatim, echo_json, pass_app, stdout
from pollnet.cli.work import who
from pollnet.i18n import gettext, tr
from pollnet.users import ROLE_LABELS, ROLES, Actor


def _password(file: Path | None) -> str:
    """The new password: the first line of ``file`` ('-': standard input), else asked twice
    without echo."""
    if file is None:
        return str(click.prompt(gettext("Password"), hide_input=True, confirmation_prompt=True))
    text = sys.stdin.read() if str(file) == "-" else file.read_text("utf-8")
    return text.splitlines()[0] if text else ""


def _actor(by: str | None) -> Actor:
    return Actor(who(by), "cli")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


_PASSWORD_FILE = click.option(
    "--password-file",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Read the password from this file's first line ('-': standard input).",
)
_BY = click.option("--by", help="Who makes the change (default: POLLNET_USER or the login name).")


@click.group()
def users() -> None:
    """Accounts of the operations web."""


@users.command("add")
@click.argument("name")
@click.option(
    "--role", required=True, type=click.Choice([r.value for r in ROLES]), help="The account's role."
)
@click.option("--scope", help="A municipality's or an education district's area (code or name).")
@click.option("--totp", is_flag=True, help="Also require a code from an authenticator app.")
@_PASSWORD_FILE
@_BY
@pass_app
def add_cmd(
    app: App,
    name: str,
    role: str,
    scope: str | None,
    totp: bool,
    password_file: Path | None,
    by: str | None,
) -> None:
    """Add an account (the password is asked twice, or read with --password-file)."""
    import pyotp

    from pollnet.users import add_user, check_password

    password = _password(password_file)
    check_password(password)
    account, secret = add_user(
        app.engine, name, role, password, _actor(by), scope=scope, totp=totp, now=_now()
    )
    out = stdout()
    out.print(tr("user {name} added: {role}", name=Verbatim(account.name),
                 role=gettext(ROLE_LABELS[account.role])))  # fmt: skip
    if secret:
        uri = pyotp.TOTP(secret).provisioning_uri(name=account.name, issuer_name="pollnet")
        out.print(tr("second factor: add this to the authenticator app: {uri}", uri=Verbatim(uri)))


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@pass_app
def list_cmd(app: App, as_json: bool) -> None:
    """List the accounts."""
    from pollnet.users import list_users

    found = list_users(app.engine)
    if as_json:
        echo_json(
            [
                {"name": a.name, "role": a.role.value, "scope": a.scope, "active": a.active,
                 "totp": a.totp}
                for a in found
            ]
        )  # fmt: skip
        return
    for a in found:
        state = gettext("active") if a.active else gettext("disabled")
        click.echo(f"{a.name}\t{gettext(ROLE_LABELS[a.role])}\t{a.scope or '-'}\t{state}")


@users.command("disable")
@click.argument("name")
@_BY
@pass_app
def disable_cmd(app: App, name: str, by: str | None) -> None:
    """Disable an account: it can no longer sign in, its sessions stop."""
    from pollnet.users import disable_user

    disable_user(app.engine, name, _actor(by), now=_now())
    stdout().print(tr("user {name} disabled", name=Verbatim(name)))


@users.command("reset-password")
@click.argument("name")
@_PASSWORD_FILE
@_BY
@pass_app
def reset_cmd(app: App, name: str, password_file: Path | None, by: str | None) -> None:
    """Give an account a new password (and unlock it)."""
    from pollnet.users import reset_password

    reset_password(app.engine, name, _password(password_file), _actor(by), now=_now())
    stdout().print(tr("password of {name} reset", name=Verbatim(name)))


COMMANDS = [users]
