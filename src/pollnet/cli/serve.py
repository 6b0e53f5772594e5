"""``pollnet serve``: run the election-day service (mutual TLS) in the foreground."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from pollnet.cli._common import App, Verbatim, pass_app
from pollnet.i18n import tr
from pollnet.link.service import link_settings
from pollnet.link.service import serve as run_service
from pollnet.tlog.config import tlog_settings
from pollnet.tlog.service import open_transparency


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
@click.option(
    "--public-port",
    type=int,
    help="Port of the transparency log's public API (0: a free one; default 8444).",
)
@pass_app
def serve(
    app: App, pki_dir: Path | None, host: str | None, port: int | None, public_port: int | None
) -> None:
    """Run the check-in and heartbeat service until interrupted."""
    # With the transparency log set up (`pollnet log init`) every outcome goes to it too, and
    # its checkpoints, tiles and receipts are served over plain HTTP on the public port.
    config = link_settings(app.settings)
    config = replace(
        config,
        pki_dir=pki_dir or config.pki_dir,
        host=host or config.host,
        port=config.port if port is None else port,
    )

    def ready(url: str) -> None:
        click.echo(tr("listening on {url}", url=Verbatim(url)), err=True)

    tlog = tlog_settings(app.settings)
    transparency = open_transparency(app.engine, tlog, config.policy.election)
    if transparency is None:
        run_service(app.engine, config, lang=app.settings.lang, ready=ready)
        return
    url = transparency.start(
        tlog.public_host, tlog.public_port if public_port is None else public_port
    )
    click.echo(tr("transparency log on {url}", url=Verbatim(url)), err=True)
    try:
        run_service(
            app.engine,
            config,
            lang=app.settings.lang,
            ready=ready,
            outcome_log=transparency.outcome_log,
            receipts=transparency.publisher.receipt,
        )
    finally:
        transparency.stop()


COMMANDS = [serve]
