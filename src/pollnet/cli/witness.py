"""``pollnet witness``: a C2SP tlog-witness that cosigns the log's consistent checkpoints."""

from __future__ import annotations

from pathlib import Path

import click
import uvicorn

from pollnet.cli._common import App, Verbatim, pass_app
from pollnet.errors import UserError
from pollnet.i18n import tr
from pollnet.link.service import bind
from pollnet.tlog.note import NoteError, parse_vkey
from pollnet.tlog.witness import (
    WITNESS_KEY_TYPES,
    Witness,
    WitnessApp,
    init_witness,
    read_witness_key,
)

WITNESS_DIR = click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("pollnet-witness"),
    show_default=True,
    help="The witness's folder: its key and the latest checkpoint of each log.",
)


@click.group()
def witness() -> None:
    """A witness that cosigns the log's checkpoints after checking they are consistent."""


@witness.command("init")
@WITNESS_DIR
@click.option("--name", required=True, help="The witness's key name, e.g. witness.example/w1.")
@click.option(
    "--key-type",
    type=click.Choice(tuple(WITNESS_KEY_TYPES)),
    default="ed25519",
    show_default=True,
    help="An Ed25519 cosignature key (0x04) or an ML-DSA-44 one (0x06).",
)
@pass_app
def init(app: App, folder: Path, name: str, key_type: str) -> None:
    """Make the witness's cosigning key."""
    signer = init_witness(folder, name, WITNESS_KEY_TYPES[key_type])
    click.echo(
        tr("the witness's public key (for policies): {vkey}", vkey=Verbatim(signer.verifier.vkey))
    )


@witness.command("serve")
@WITNESS_DIR
@click.option(
    "--log",
    "logs",
    multiple=True,
    required=True,
    help="A log's public key (vkey) to witness (repeatable).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=int, default=8445, show_default=True, help="Port to listen on (0: a free one)."
)
@pass_app
def serve(app: App, folder: Path, logs: tuple[str, ...], host: str, port: int) -> None:
    """Answer add-checkpoint requests until interrupted."""
    try:
        verifiers = [parse_vkey(v) for v in logs]
    except NoteError as exc:
        raise UserError.of("a bad log key: {reason}", column="--log", reason=str(exc)) from None
    app_ = WitnessApp(Witness(read_witness_key(folder), verifiers, folder / "state"))
    sock = bind(host, port)
    click.echo(
        tr("witness listening on {url}", url=Verbatim(f"http://{host}:{sock.getsockname()[1]}")),
        err=True,
    )
    server = uvicorn.Server(
        uvicorn.Config(app_, access_log=False, log_level="warning", lifespan="on")
    )
    server.run(sockets=[sock])


COMMANDS = [witness]
