"""``pollnet demo``: the main job on the bundled data, in a fresh folder."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from pollnet import demo as demo_job
from pollnet.cli._common import App, Verbatim, echo_json, pass_app, progress, stdout
from pollnet.i18n import format_number, gettext, tr


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("pollnet-demo"),
    show_default=True,
    help="Folder to build the demo in: new, empty, or made by an earlier demo.",
)
@click.option(
    "--stations",
    type=click.IntRange(1),
    default=demo_job.DEMO_STATIONS,
    show_default=True,
    help="Number of polling stations of the synthetic city.",
)
@click.option(
    "--seed",
    type=click.IntRange(0),
    default=demo_job.DEMO_SEED,
    show_default=True,
    help="Random seed.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@pass_app
def demo(app: App, out: Path, stations: int, seed: int, as_json: bool) -> None:
    """Build a fresh database from the bundled synthetic city and summarise it."""
    with progress(gettext("demo"), total=len(demo_job.STAGES)) as advance:

        def on_stage(name: str) -> None:
            advance()

        result = demo_job.run(out, app.settings, stations=stations, seed=seed, on_stage=on_stage)
    if as_json:
        echo_json(result.to_dict())
        return
    console = stdout()
    table = Table(title=tr("pollnet demo in {folder}", folder=result.folder))
    table.add_column(gettext("what"))
    table.add_column(gettext("count"), justify="right")
    for name, count in result.counts.items():
        table.add_row(gettext(name.replace("_", " ")), format_number(count))
    console.print(table)
    plan = result.plan
    console.print(
        tr(
            "plan: {connected} of {stations} stations connected, {review} flagged for review, "
            "{trench_km} km of trench, {cost} rials",
            connected=plan["connected"],
            stations=plan["stations"],
            review=plan["review"],
            trench_km=format_number(plan["trench_m"] / 1000, decimals=1),
            cost=format_number(plan["cost_rial"]),
        )
    )
    console.print(tr("report: {path}", path=result.files["plan:report"]))
    lte = result.lte_backup
    console.print(
        tr(
            "LTE backup: {good} good, {usable} usable, {none} without; {path}",
            good=lte["good"],
            usable=lte["usable"],
            none=lte["none"],
            path=result.files["coverage"],
        )
    )
    for name, seconds in result.seconds.items():
        console.print(
            tr(
                "{stage}: {seconds} s",
                stage=gettext(name),
                seconds=format_number(seconds, decimals=2),
            )
        )
    url = Verbatim(result.db_url)
    console.print(tr("database: {url}", url=url))
    console.print(
        tr("the next commands use it with --db {url} or with export POLLNET_DB={url}", url=url)
    )


COMMANDS = [demo]
