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


@click.command()
@click.option(
    "--streets",
    "streets",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Street cache written by 'pollnet streets import --out'.",
)
@click.option(
    "--costs",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Cost model (TOML) merged over the defaults.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write the map layers, work lists and HTML report into this folder.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary object.")
@pass_app
def plan(
    app: App, streets: Path | None, costs: Path | None, out: Path | None, as_json: bool
) -> None:
    """Plan fiber routes from the exchanges to every polling station and store the plan."""
    from pollnet.plan import run

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
