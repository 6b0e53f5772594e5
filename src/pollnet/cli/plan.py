"""``pollnet plan``: design the fiber network from the registry and the street cache."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table

from pollnet.cli._common import App, busy, echo_json, pass_app, stdout
from pollnet.i18n import format_number, gettext, tr
from pollnet.plan.model import FLAG_LABELS
from pollnet.plan.outputs import output_label

if TYPE_CHECKING:
    from pollnet.plan.model import Plan


streets_option = click.option(
    "--streets",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Street cache written by 'pollnet streets import --out'.",
)
costs_option = click.option(
    "--costs",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Cost model (TOML) merged over the defaults.",
)


@click.command()
@streets_option
@costs_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write the map layers, work lists and HTML report into this folder.",
)
@click.option(
    "--move",
    "moves",
    multiple=True,
    metavar="STATION=BUILDING",
    help="Report what moving a station to a candidate building would change (repeatable; "
    "nothing is stored).",
)
@click.option(
    "--candidates",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The candidate buildings that --move names (CSV, XLSX or GeoJSON: code, lat, lon), "
    "or an OpenStreetMap file (its schools: osm-w123).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary object.")
@pass_app
def plan(
    app: App,
    streets: Path | None,
    costs: Path | None,
    out: Path | None,
    moves: tuple[str, ...],
    candidates: Path | None,
    as_json: bool,
) -> None:
    """Plan fiber routes from the exchanges to every polling station and store the plan."""
    from pollnet.plan import run

    if moves:
        _moves(app, moves, candidates, streets, costs, out, as_json)
        return

    with busy(gettext("Planning the fiber network")):
        result = run(app.engine, app.settings, streets=streets, costs=costs)
    files = _write_outputs(app, result, streets, out) if out else {}
    if as_json:
        echo_json({**result.summary(), **({"files": files} if files else {})})
        return
    t = result.totals
    table = Table(title=tr("Fiber plan {plan_id}", plan_id=result.id or ""), show_header=False)
    rows = [
        (gettext("Stations"), format_number(t.stations)),
        (gettext("Connected"), format_number(t.connected)),
        (gettext("Not connected"), format_number(t.flagged)),
        (gettext("Flagged for review"), format_number(len(result.for_review))),
        (gettext("Trench (km)"), format_number(t.trench_m / 1000.0, decimals=1)),
        (gettext("Cable (km)"), format_number(t.cable_m / 1000.0, decimals=1)),
        (gettext("Total cost (million rials)"), format_number(t.cost_rial / 1e6, decimals=0)),
        (
            gettext("of which second routes"),
            format_number(t.redundancy_cost_rial / 1e6, decimals=0),
        ),
        (gettext("Total cost (US dollars)"), format_number(t.cost_usd, decimals=0)),
    ]
    for label, value in rows:
        table.add_row(label, value)
    seconds = sum(result.phase_seconds.values())
    console = stdout()
    console.print(table)
    reasons = result.review_reasons()
    if reasons:
        flags = Table(title=gettext("Flagged for review, by reason"), show_header=False)
        for code, count in reasons.items():
            flags.add_row(gettext(FLAG_LABELS[code]), format_number(count))
        console.print(flags)
    console.print(tr("planned in {seconds} s", seconds=format_number(seconds, decimals=1)))
    for name, path in files.items():
        console.print(f"{output_label(name)}: {path}")


def _moves(
    app: App,
    moves: tuple[str, ...],
    candidates: Path | None,
    streets: Path | None,
    costs: Path | None,
    out: Path | None,
    as_json: bool,
) -> None:
    """``plan --move``: the difference the moves make, reported and not stored."""
    from pollnet.coverage.backup import STATUS_LABELS
    from pollnet.errors import UserError
    from pollnet.plan import moves as moving
    from pollnet.plan.whatif import MSG_NOT_STORED
    from pollnet.rollout.sheets import agency_label

    if out is not None:
        raise UserError.of("--move only reports: it cannot be used with --out", column="--out")
    with busy(gettext("Planning the fiber network")):
        report = moving.run(
            app.engine, app.settings, moves, candidates, streets=streets, costs=costs
        )
    if report.plan_id is None:
        click.echo(gettext(MSG_NOT_STORED), err=True)
    if as_json:
        echo_json(report.as_dict())
        return
    console = stdout()

    def lte(status: str | None) -> str:
        return gettext(STATUS_LABELS[status]) if status else "-"

    def km(metres: float) -> str:
        return format_number(metres / 1000.0, decimals=2)

    table = Table(title=gettext("Moves (nothing is stored)"))
    for header in ("Station", "Building", "Exchange", "Route (km)", "LTE backup"):
        table.add_column(gettext(header))
    for m in report.stations:
        table.add_row(
            m.station,
            m.target,
            f"{m.exchange_before or '-'} → {m.exchange_after or '-'}",
            f"{km(m.route_m_before)} → {km(m.route_m_after)}",
            f"{lte(m.lte_before)} → {lte(m.lte_after)}",
        )
    console.print(table)
    totals = Table(show_header=False)
    totals.add_row(gettext("Connected"), f"{format_number(report.connected_before)} → "
                   f"{format_number(report.connected_after)}")  # fmt: skip
    totals.add_row(gettext("Trench (m)"), _signed(report.trench_m, 1))
    totals.add_row(gettext("Total cost (million rials)"), _signed(report.cost_rial / 1e6, 0))
    console.print(totals)
    if report.orders:
        orders = Table(title=gettext("Work orders, by agency"))
        for header in ("Agency", "New", "Gone", "Changed"):
            orders.add_column(gettext(header))
        for o in report.orders:
            orders.add_row(
                agency_label(o.agency),
                format_number(o.added),
                format_number(o.removed),
                format_number(o.changed),
            )
        console.print(orders)
    seconds = report.seconds
    if report.plan_id is not None:
        console.print(tr("from the stored plan {plan_id}", plan_id=report.plan_id))
    console.print(
        tr(
            "moved in {move} s (the plan as it is: {plan} s)",
            move=format_number(seconds.get("move", 0.0), decimals=2),
            plan=format_number(seconds.get("plan", 0.0), decimals=1),
        )
    )


def _signed(value: float, decimals: int) -> str:
    """A difference with its sign (+ for more, − for less)."""
    text = format_number(abs(value), decimals=decimals)
    return ("+" if value > 0 else "−" if value < 0 else "") + text


def _write_outputs(app: App, result: Plan, streets: Path | None, out: Path) -> dict[str, str]:
    """Write every output of the plan into ``out`` (see :func:`pollnet.plan.outputs.write_all`)."""
    from pollnet import streets as street_layer
    from pollnet.plan._inputs import read_inputs
    from pollnet.plan.outputs import write_all

    cache = streets or street_layer.StreetsConfig.from_settings(app.settings).cache
    stations = read_inputs(app.engine)[0]
    files = write_all(result, street_layer.load(cache), out, app.settings.lang, stations=stations)
    return {name: str(path) for name, path in files.items()}


COMMANDS = [plan]
