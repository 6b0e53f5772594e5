"""``pollnet synth``: generate the deterministic synthetic city and write its files."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from pollnet.cli._common import App, echo_json, pass_app, progress, stderr, stdout
from pollnet.datasets import STAGES, generate, summary, write
from pollnet.i18n import current_language, format_number, gettext, tr


@click.command()
@click.option(
    "--stations",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Number of polling stations.",
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=1, show_default=True, help="Random seed."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("synth-city"),
    show_default=True,
    help="Folder to write the files into.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as a JSON object.")
@pass_app
def synth(app: App, stations: int, seed: int, out: Path, as_json: bool) -> None:
    """Generate a synthetic city (streets, schools, stations, exchanges, towers) into files.

    The same --stations and --seed always give the same files.
    """
    started = time.perf_counter()
    with progress(gettext("Generating the synthetic city"), total=len(STAGES) + 1) as advance:
        seen: list[str] = []

        def on_stage(stage: str) -> None:
            if seen:
                advance()
            seen.append(stage)

        city = generate(stations, seed, bbox=app.settings.bbox, on_stage=on_stage)
        advance()
        paths = write(city, out)
        advance()
    result = summary(city)
    seconds = round(time.perf_counter() - started, 2)
    if as_json:
        files = sorted(p.name for p in paths.values())
        echo_json({**result, "seconds": seconds, "folder": str(out), "files": files})
        return
    _print_summary(result)
    wrote = tr(
        "Wrote {count} files in {seconds} s",
        count=len(paths),
        seconds=format_number(seconds, decimals=2),
    )
    stderr().print(f"{wrote}: {out}", markup=False)


_ROWS = (
    ("stations", "Stations"),
    ("schools", "Schools"),
    ("critical_stations", "Critical stations"),
    ("voters", "Expected voters"),
    ("nodes", "Street nodes"),
    ("edges", "Street edges"),
    ("street_km", "Streets (km)"),
    ("dead_ends", "Dead ends"),
    ("districts", "Districts"),
    ("exchanges", "Exchanges"),
    ("pon_ports", "PON ports"),
    ("towers", "Towers"),
    ("existing_fiber_km", "Existing fiber (km)"),
)


def _print_summary(result: dict[str, Any]) -> None:
    table = Table(title=tr("Synthetic city, seed {seed}", seed=result["seed"]), show_header=False)
    table.add_column(justify="left")
    table.add_column(justify="right")
    for key, label in _ROWS:
        value = result[key]
        text = (
            format_number(value, decimals=1) if isinstance(value, float) else format_number(value)
        )
        table.add_row(gettext(label), text)
    percent = "٪" if current_language() == "fa" else "%"
    share = format_number(result["main_component_share"] * 100, decimals=2)
    table.add_row(gettext("Main street component"), share + percent)
    stdout().print(table)


COMMANDS = [synth]
