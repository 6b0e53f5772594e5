"""``pollnet simulate``: an election day in miniature over mutual TLS (pollnet.simulation)."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import click

from pollnet.cli._common import App, busy, echo_json, pass_app, stdout
from pollnet.i18n import format_number, tr
from pollnet.link.client import POLICIES
from pollnet.link.service import link_settings
from pollnet.simulation import SimulationConfig, SimulationReport, simulate


@click.command("simulate")
@click.option(
    "--stations", type=click.IntRange(1), default=3, show_default=True, help="Polling stations."
)
@click.option(
    "--devices-per-station",
    type=click.IntRange(1),
    default=2,
    show_default=True,
    help="Devices at each station.",
)
@click.option(
    "--voters",
    type=click.IntRange(1),
    default=300,
    show_default=True,
    help="Voters on the roll.",
)
@click.option(
    "--duration",
    type=click.FloatRange(0, min_open=True),
    default=10.0,
    show_default=True,
    help="Seconds the polling day is compressed into.",
)
@click.option(
    "--url",
    help="A running service to drive instead of starting one (its PKI: --pki; its database: --db).",
)
@click.option(
    "--pki",
    "pki_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="PKI folder (default: a new one).",
)
@click.option(
    "--policy",
    type=click.Choice(POLICIES),
    default="provisional",
    show_default=True,
    help="When no link answers.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes driving the devices (stations are split between them).",
)
@click.option("--work-dir", type=click.Path(file_okay=False, path_type=Path), hidden=True)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the figures as one JSON object (instead of the text).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log what the devices do (never a code).")
@pass_app
def simulate_command(
    app: App,
    stations: int,
    devices_per_station: int,
    voters: int,
    duration: float,
    url: str | None,
    pki_dir: Path | None,
    policy: str,
    seed: int,
    workers: int,
    work_dir: Path | None,
    as_json: bool,
    verbose: bool,
) -> None:
    """Drive simulated devices against the check-in service and check nothing is lost."""
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pollnet.link.device").setLevel(logging.INFO if verbose else logging.ERROR)
    config = SimulationConfig(
        stations=stations,
        devices_per_station=devices_per_station,
        voters=voters,
        duration_s=duration,
        seed=seed,
        policy=policy,
        workers=workers,
    )
    if url is not None:
        link = link_settings(app.settings)
        config = dataclasses.replace(
            config,
            url=url,
            pki_dir=pki_dir or link.pki_dir,
            db_url=app.settings.db_url,
            election=link.policy.election,
            election_date=link.policy.election_date,
        )
    with busy(
        tr("Simulating a polling day of {seconds} s", seconds=format_number(duration, decimals=1))
    ):
        report = simulate(config, work_dir)
    if as_json:
        echo_json(report.as_dict())
    else:
        _print(report)


def _print(report: SimulationReport) -> None:
    console = stdout()
    n = format_number
    lines = [
        tr(
            "{stations} stations, {devices} devices, {attempts} check-in attempts"
            " ({repeats} attempts to vote again) in {seconds} s",
            stations=n(report.stations),
            devices=n(report.devices),
            attempts=n(report.attempts),
            repeats=n(report.repeat_attempts),
            seconds=n(report.elapsed_s, decimals=1),
        ),
        tr(
            "accepted {accepted}, refused as duplicates {duplicates}, conflicts {conflicts},"
            " accepted offline {provisional}",
            accepted=n(report.accepted),
            duplicates=n(report.refused_duplicate),
            conflicts=n(report.conflicts),
            provisional=n(report.provisional),
        ),
        tr(
            "other refusals: {refusals}",
            refusals=", ".join(f"{k} {n(v)}" for k, v in report.refused.items()) or "-",
        ),
        tr(
            "latency p50 {p50} ms, p90 {p90} ms, p99 {p99} ms; {rate} check-ins/s",
            p50=n(report.p50_ms, decimals=1),
            p90=n(report.p90_ms, decimals=1),
            p99=n(report.p99_ms, decimals=1),
            rate=n(report.throughput_per_s, decimals=1),
        ),
        tr(
            "fiber cuts {cuts}, outages {outages}, failovers {failovers}, heartbeats {beats}",
            cuts=n(report.fiber_cuts),
            outages=n(report.outages),
            failovers=n(report.failovers),
            beats=n(report.heartbeats),
        ),
    ]
    if report.lost == 0 and report.counted_twice == 0:
        lines.append(tr("every acknowledged check-in is in the ledger; nobody counted twice"))
    else:
        lines.append(
            tr(
                "LOST {lost} acknowledged check-ins; {twice} voters counted twice",
                lost=n(report.lost),
                twice=n(report.counted_twice),
            )
        )
    if report.unsent:
        lines.append(tr("{unsent} check-ins still queued on devices", unsent=n(report.unsent)))
    for line in lines:
        console.print(line)


COMMANDS = [simulate_command]
