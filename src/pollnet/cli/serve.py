"""``pollnet serve``: run the election-day service (mutual TLS) in the foreground."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from pollnet.cli._common import App, Verbatim, pass_app
from pollnet.i18n import tr
from pollnet.link.service import link_settings
from pollnet.link.service import serve as run_service


@click.command("serve")
@click.option(
    "--pki",
    "--dir",
    "pki_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="PKI folder (default: settings [link] pki_dir, else pollnet-data/pki).",
)
@click.option("--host", help="Address to listen on (default: settings [link] host, 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (0: a free one; default 8443).")
@pass_app
def serve(app: App, pki_dir: Path | None, host: str | None, port: int | None) -> None:
    """Run the check-in and heartbeat service until interrupted."""
    config = link_settings(app.settings)
    config = replace(
        config,
        pki_dir=pki_dir or config.pki_dir,
        host=host or config.host,
        port=config.port if port is None else port,
    )

    def ready(url: str) -> None:
        click.echo(tr("listening on {url}", url=Verbatim(url)), err=True)

    run_service(app.engine, config, lang=app.settings.lang, ready=ready)


COMMANDS = [serve]
