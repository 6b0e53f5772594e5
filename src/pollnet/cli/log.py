"""``pollnet log``: the check-in transparency log's keys, static export and receipts."""

from __future__ import annotations

import time
from pathlib import Path

import click

from pollnet.cli._common import App, Verbatim, pass_app
from pollnet.errors import UserError
from pollnet.i18n import format_number, tr
from pollnet.link.service import link_settings
from pollnet.tlog import store
from pollnet.tlog.config import default_origin, tlog_settings
from pollnet.tlog.http import LogSource, StaticLog, start_public
from pollnet.tlog.publisher import LogTampered, Publisher
from pollnet.tlog.service import export as export_log
from pollnet.tlog.tiles import TileError


@click.group("log")
def log() -> None:
    """The check-in transparency log that observers verify."""


@log.command("init")
@click.option(
    "--origin", help="The log's name in its checkpoints (default pollnet.local/<election>)."
)
@pass_app
def init(app: App, origin: str | None) -> None:
    """Make the log's signing keys (Ed25519, ML-DSA-44) and its publication key."""
    config = tlog_settings(app.settings)
    election = link_settings(app.settings).policy.election
    keys = store.init_keys(config.key_dir, origin or config.origin or default_origin(election))
    click.echo(tr("log keys in {folder}", folder=Verbatim(config.key_dir)))
    click.echo(
        tr("the log's public key (give it to observers): {vkey}", vkey=Verbatim(keys.verifier.vkey))
    )
    if keys.mldsa is not None:
        click.echo(
            tr(
                "its ML-DSA-44 public key, for policies that require it too: {file}",
                file=Verbatim(config.key_dir / store.LOG_MLDSA_PUB),
            )
        )


@log.command("destroy-publication-key")
@pass_app
def destroy_publication_key(app: App) -> None:
    """Destroy the publication key once the result is certified (cannot be undone)."""
    folder = tlog_settings(app.settings).key_dir
    if store.destroy_publication_key(folder):
        click.echo(tr("the publication key was overwritten and deleted; the log is closed"))
    else:
        click.echo(tr("there is no publication key in {folder}", folder=Verbatim(folder)))


@log.command("export")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@pass_app
def export(app: App, folder: Path) -> None:
    """Write the latest checkpoint, tiles and entries as static files for any web server."""
    publisher = _loaded(app)
    count = export_log(publisher, folder)
    click.echo(
        tr(
            "{files} files for {entries} entries written to {folder}",
            files=format_number(count),
            entries=format_number(publisher.size),
            folder=Verbatim(folder),
        )
    )


@log.command("receipt")
@click.argument("index", type=click.IntRange(min=0))
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write it to this file."
)
@pass_app
def receipt(app: App, index: int, out: Path | None) -> None:
    """The tlog-proof receipt of one log entry against the latest checkpoint."""
    publisher = _loaded(app)
    try:
        text = publisher.receipt(index)
    except TileError:
        raise UserError.of(
            "entry {index} is not in a signed checkpoint yet",
            index=format_number(index),
        ) from None
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(tr("receipt written to {path}", path=Verbatim(out)))


@log.command("serve")
@click.option("--host", help="Address to listen on (default: settings [tlog] public_host).")
@click.option("--port", type=int, help="Port to listen on (0: a free one; default 8444).")
@click.option(
    "--static",
    "folder",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Serve the static export in this folder (pollnet log export) instead of the database.",
)
@pass_app
def serve(app: App, host: str | None, port: int | None, folder: Path | None) -> None:
    """Serve the log's public API read-only from the database (a mirror; it never signs)."""
    config = tlog_settings(app.settings)
    source: LogSource = StaticLog(folder) if folder is not None else _loaded(app)
    public = start_public(
        source, host or config.public_host, config.public_port if port is None else port
    )
    click.echo(tr("transparency log on {url}", url=Verbatim(public.url)), err=True)
    try:
        while True:
            time.sleep(1.0)
            if not isinstance(source, Publisher):
                continue  # a static export changes when it is written again
            try:
                source.follow()
            except LogTampered as exc:
                raise UserError.of(
                    "the log does not match its signed checkpoints: {reason}", reason=str(exc)
                ) from None
    except KeyboardInterrupt:
        pass
    finally:
        public.stop()


def _loaded(app: App) -> Publisher:
    """The log as stored (no new checkpoint is signed); a tampered log is a user error."""
    publisher = Publisher(app.engine, None)
    try:
        publisher.load()
    except LogTampered as exc:
        raise UserError.of(
            "the log does not match its signed checkpoints: {reason}", reason=str(exc)
        ) from None
    return publisher


COMMANDS = [log]
