"""``pollnet status``: station readiness by district, from the devices' heartbeats."""

from __future__ import annotations

import datetime as dt

import click

from pollnet.cli._common import App, echo_json, pass_app, stdout
from pollnet.errors import Problem, UserError
from pollnet.i18n import format_number, tr
from pollnet.link.audit import verify_audit
from pollnet.link.heartbeat import STATES, readiness, states_by_district
from pollnet.link.service import link_settings


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per station.")
@pass_app
def status(app: App, as_json: bool) -> None:
    """Print how many stations are ready, degraded or offline in each district."""
    interval = link_settings(app.settings).heartbeat_seconds
    stations = readiness(app.engine, dt.datetime.now(dt.UTC), interval)
    if as_json:
        for s in stations:
            echo_json(
                {
                    "station": s.station,
                    "district": s.district,
                    "state": s.state,
                    "devices_online": s.devices_online,
                    "devices_expected": s.devices_expected,
                    "on_lte": s.on_lte,
                }
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


@click.command("audit")
@pass_app
def audit(app: App) -> None:
    """Verify the ledger against its hash-chained audit (exit 1 on any problem)."""
    report = verify_audit(app.engine)
    if not report.ok:
        raise UserError([Problem(p) for p in report.problems])
    click.echo(
        tr(
            "audit intact: {batches} batches, {checkins} check-ins, {conflicts} conflicts",
            batches=report.batches,
            checkins=report.checkins,
            conflicts=report.conflicts,
        )
    )


COMMANDS = [status, audit]
