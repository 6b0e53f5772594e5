"""``pollnet pki``: the election's certificate authorities and the service's certificate."""

from __future__ import annotations

from pathlib import Path

import click

from pollnet.cli._common import App, Verbatim, pass_app
from pollnet.i18n import tr
from pollnet.link import pki as link_pki
from pollnet.link.service import link_settings

PKI_DIR = click.option(
    "--dir",
    "pki_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="PKI folder (default: settings [link] pki_dir, else pollnet-data/pki).",
)


def pki_dir_of(app: App, given: Path | None) -> Path:
    """The PKI folder named on the command line, else the one in the settings."""
    return given if given is not None else link_settings(app.settings).pki_dir


@click.group()
def pki() -> None:
    """The election's device PKI."""


@pki.command("init")
@PKI_DIR
@pass_app
def init(app: App, pki_dir: Path | None) -> None:
    """Create the root CA, the issuing CA, an empty CRL and the ledger key."""
    config = link_settings(app.settings)
    folder = link_pki.init_pki(
        pki_dir if pki_dir is not None else config.pki_dir,
        election_date=app.settings.election_date,
        valid_from=config.valid_from,
        valid_until=config.valid_until,
    )
    click.echo(tr("PKI created in {folder}", folder=Verbatim(folder)))


@pki.command("server-cert")
@PKI_DIR
@click.option(
    "--host", "hosts", multiple=True, help="IP address or DNS name of the service (repeatable)."
)
@pass_app
def server_cert(app: App, pki_dir: Path | None, hosts: tuple[str, ...]) -> None:
    """Issue the service's own TLS certificate."""
    path = link_pki.issue_server_cert(pki_dir_of(app, pki_dir), hosts or ("127.0.0.1", "localhost"))
    click.echo(tr("server certificate written to {path}", path=Verbatim(path)))


COMMANDS = [pki]
