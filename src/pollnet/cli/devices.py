"""``pollnet devices``: enrol, revoke and list the identity-verification devices."""

from __future__ import annotations

from pathlib import Path

import click

from pollnet.cli._common import App, Verbatim, echo_json, pass_app, stdout
from pollnet.cli.pki import PKI_DIR, pki_dir_of
from pollnet.i18n import format_date, tr
from pollnet.link import pki as link_pki


@click.group()
def devices() -> None:
    """Identity-verification devices and their certificates."""


@devices.command("enroll")
@PKI_DIR
@click.option("--station", required=True, help="Code of the station the device serves.")
@click.option("--serial", required=True, help="The device's serial number.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Bundle folder (default: <pki>/bundles/<serial>).",
)
@click.option(
    "--fiber",
    multiple=True,
    help="URL of the service over fiber (https://host:port); repeat for several services.",
)
@click.option("--lte", multiple=True, help="URL of the service over LTE; repeat for several.")
@click.option(
    "--heartbeat-seconds",
    type=int,
    default=30,
    show_default=True,
    help="Seconds between the device's heartbeats.",
)
@click.option(
    "--reissue",
    is_flag=True,
    help="The serial is enrolled already: revoke its certificate and issue a new one.",
)
@pass_app
def enroll(
    app: App,
    pki_dir: Path | None,
    station: str,
    serial: str,
    out: Path | None,
    fiber: tuple[str, ...],
    lte: tuple[str, ...],
    heartbeat_seconds: int,
    reissue: bool,
) -> None:
    """Issue a key and certificate for a device of a registered station and write its bundle."""
    from pollnet.registry import get_station

    endpoints = {k: v[0] if len(v) == 1 else v for k, v in (("fiber", fiber), ("lte", lte)) if v}
    folder = link_pki.enroll_device(
        pki_dir_of(app, pki_dir),
        get_station(app.engine, station).code,
        serial,
        out,
        endpoints=endpoints,
        heartbeat_seconds=heartbeat_seconds,
        reissue=reissue,
    )
    click.echo(
        tr(
            "device {serial} enrolled; bundle in {folder}",
            serial=Verbatim(serial),
            folder=Verbatim(folder),
        )
    )


@devices.command("revoke")
@PKI_DIR
@click.argument("serial")
@pass_app
def revoke(app: App, pki_dir: Path | None, serial: str) -> None:
    """Revoke a device's certificate (the service refuses it from now on)."""
    link_pki.revoke(pki_dir_of(app, pki_dir), serial)
    click.echo(tr("device {serial} revoked", serial=Verbatim(serial)))


@devices.command("list")
@PKI_DIR
@click.option("--json", "as_json", is_flag=True, help="One JSON array, an object per device.")
@pass_app
def list_(app: App, pki_dir: Path | None, as_json: bool) -> None:
    """Every device certificate issued, with its station, validity and revocation."""
    records = link_pki.list_devices(pki_dir_of(app, pki_dir))
    if as_json:
        echo_json(
            [
                {
                    "serial": r.serial,
                    "station": r.station,
                    "not_before": r.not_before.isoformat(),
                    "not_after": r.not_after.isoformat(),
                    "revoked": r.revoked,
                }
                for r in records
            ]
        )
        return
    console = stdout()
    for r in records:
        state = tr("revoked") if r.revoked else tr("valid")
        console.print(
            f"{r.serial}\t{r.station}\t{format_date(r.not_before.date(), _lang())}"
            f"..{format_date(r.not_after.date(), _lang())}\t{state}"
        )


def _lang() -> str:
    from pollnet.i18n import current_language

    return current_language()


COMMANDS = [devices]
