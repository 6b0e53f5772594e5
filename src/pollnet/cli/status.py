"""``pollnet status``: station readiness by district, from the devices' heartbeats."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from pollnet.cli._common import App, Verbatim, busy, echo_json, pass_app, stdout
from pollnet.errors import UserError
from pollnet.i18n import format_number, gettext, tr
from pollnet.link.anchor import read_head
from pollnet.link.audit import verify_audit
from pollnet.link.heartbeat import STATES, readiness, states_by_district
from pollnet.link.pki import head_public_key
from pollnet.link.service import link_settings


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="One JSON array, an object per station.")
@pass_app
def status(app: App, as_json: bool) -> None:
    """Print how many stations are ready, degraded or offline in each district.

    On PostgreSQL it also shows the node the ledger writes to, each standby's lag and whether
    the synchronous quorum is met.
    """
    interval = link_settings(app.settings).heartbeat_seconds
    with busy(gettext("Reading the devices' heartbeats")):
        stations = readiness(app.engine, dt.datetime.now(dt.UTC), interval)
    if as_json:
        echo_json(
            [
                {
                    "station": s.station,
                    "district": s.district,
                    "state": s.state,
                    "devices_online": s.devices_online,
                    "devices_expected": s.devices_expected,
                    "on_lte": s.on_lte,
                }
                for s in stations
            ]
        )
        return
    console = stdout()
    for district, counts in states_by_district(stations):
        name = (
            tr("district {number}", number=district) if district is not None else tr("unregistered")
        )
        parts = ", ".join(f"{tr(state)} {format_number(counts[state])}" for state in STATES)
        console.print(f"{name}: {parts}")
    if not stations:
        console.print(tr("no station has reported yet"))
    if app.engine.dialect.name == "postgresql":  # the replicated ledger: primary, lag, quorum
        from pollnet.cli.cluster import print_replication
        from pollnet.cluster.replication import replication_status

        with app.engine.connect() as conn:
            print_replication(replication_status(conn))


@click.command("audit")
@click.option(
    "--head",
    "head_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The signed ledger head (default: settings [link] head_file).",
)
@click.option(
    "--pki", "pki_dir", type=click.Path(file_okay=False, path_type=Path), help="PKI folder."
)
@pass_app
def audit(app: App, head_file: Path | None, pki_dir: Path | None) -> None:
    """Verify the ledger against its hash-chained audit (exit 1 on any problem).

    It is also checked against the signed head the service wrote outside the database; without
    one a cut-off end of the ledger cannot show, and the command says so.
    """
    config = link_settings(app.settings)
    checkpoints = []
    path = head_file or config.head_file
    if path is not None and (head_file is not None or path.exists()):
        checkpoints.append(read_head(path, head_public_key(pki_dir or config.pki_dir)))
    else:
        click.echo(
            tr(
                "no signed head at {file}: a cut-off end of the ledger would not show",
                file=Verbatim(path),
            ),
            err=True,
        )
    with busy(gettext("Verifying the ledger against its audit")):
        report = verify_audit(app.engine, checkpoints)
    if not report.ok:
        raise UserError(report.problems)
    click.echo(
        tr(
            "audit intact: {batches} batches, {checkins} check-ins, {conflicts} conflicts",
            batches=report.batches,
            checkins=report.checkins,
            conflicts=report.conflicts,
        )
    )
    if checkpoints:
        click.echo(tr("signed head: {size} batches, matches the ledger", size=report.anchored))


COMMANDS = [status, audit]
