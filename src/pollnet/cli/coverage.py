"""``pollnet coverage``: each station's LTE backup from the registry's towers."""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path

import click
from rich.table import Table

from pollnet.cli._common import App, busy, echo_json, pass_app, stdout
from pollnet.cli.areas import area_filters, area_options, stations_in
from pollnet.coverage import (
    STATUSES,
    RadioSettings,
    StationBackup,
    by_district,
    lte_backup,
    read_towers,
    write_backup_csv,
)
from pollnet.coverage.cells import SITE_KINDS, CandidateSite, CellSettings, plan_cells, write_cells
from pollnet.coverage.towers import import_towers
from pollnet.i18n import format_number, gettext, tr
from pollnet.registry import list_stations, osm_tags, read_candidates


@click.group("coverage", invoke_without_command=True)
@click.option("--district", type=int, help="Only this municipal district.")
@area_options
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every station's backup to this CSV file (UTF-8, opens in Excel).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_app
def coverage(
    app: App,
    district: int | None,
    county: str | None,
    municipality: str | None,
    education_district: str | None,
    out: Path | None,
    as_json: bool,
) -> None:
    """Estimate every station's LTE backup from the operators' towers, by district."""
    if click.get_current_context().invoked_subcommand is not None:
        return
    app.settings  # noqa: B018  (builds the settings and sets the language)
    radio = RadioSettings.from_mapping(app.settings.section("coverage"), app.settings.source)
    with busy(gettext("Estimating the stations' LTE backup")):
        stations = list_stations(app.engine, district=district)
        chosen = stations_in(app, area_filters(app, county, municipality, education_district))
        if chosen is not None:
            stations = [s for s in stations if s.code in chosen]
        backups = lte_backup(stations, read_towers(app.engine, required=True), radio)
        districts = by_district(backups, radio)
        if out is not None:
            write_backup_csv(backups, radio, out, app.settings.lang)
    if as_json:
        counts = {status: sum(1 for b in backups if b.status == status) for status in STATUSES}
        echo_json(
            {
                "stations": len(backups),
                **counts,
                "districts": [d.as_dict() for d in districts],
                "without_backup": [b.as_dict() for b in backups if b.status == "none"],
                "file": str(out) if out else None,
            }
        )
        return
    console = stdout()
    table = Table(title=gettext("LTE backup by district"))
    for header in (
        "District",
        "Stations",
        "good",
        "usable",
        "no LTE backup",
        "one operator only",
        "critical without backup",
    ):
        table.add_column(gettext(header), justify="right")
    for d in districts:
        table.add_row(
            *(
                format_number(v)
                for v in (d.district, d.stations, d.good, d.usable, d.none, d.single)
            ),
            format_number(d.critical_none),
        )
    console.print(table)
    missing = [b for b in backups if b.status == "none"]
    if missing:
        console.print(tr("Stations without LTE backup: {count}", count=len(missing)))
        for b in missing:
            console.print(_missing_line(b))
    if out is not None:
        console.print(tr("every station's backup written to {path}", path=str(out)))


@coverage.command("plan-cells")
@click.option(
    "--candidates",
    type=click.Path(dir_okay=False, path_type=Path),
    help="More candidate sites (CSV/XLSX/GeoJSON: code, lat, lon, or an OpenStreetMap file).",
)
@click.option("--operator", "operators", multiple=True, help="Only this operator (repeatable).")
@click.option("--height", type=float, help="Cell height (m); default [cells] height_m, else 15.")
@click.option(
    "--power", type=float, help="Cell power (dBm); default [cells] tx_power_dbm, else 40."
)
@click.option(
    "--seconds",
    type=float,
    default=10.0,
    show_default=True,
    help="Time for the exact cover per operator; greedy with a bound after it.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the chosen sites to this file (.xlsx: one sheet per operator; else CSV).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_app
def plan_cells_command(
    app: App,
    candidates: Path | None,
    operators: tuple[str, ...],
    height: float | None,
    power: float | None,
    seconds: float,
    out: Path | None,
    as_json: bool,
) -> None:
    """The fewest temporary LTE cell sites per operator for the stations without backup."""
    radio = RadioSettings.from_mapping(app.settings.section("coverage"), app.settings.source)
    configured = CellSettings.from_mapping(app.settings.section("cells"), app.settings.source)
    cell = replace(
        configured,
        height_m=configured.height_m if height is None else height,
        tx_power_dbm=configured.tx_power_dbm if power is None else power,
    ).check()
    extra = (
        read_candidates(candidates, app.settings.bbox, osm_tags(app.settings)) if candidates else ()
    )
    with busy(gettext("Choosing temporary cell sites")):
        stations = list_stations(app.engine)
        towers = read_towers(app.engine, required=True)
        backups = lte_backup(stations, towers, radio)
        plans = plan_cells(
            stations,
            backups,
            towers,
            radio,
            cell,
            [CandidateSite(c.code, "candidate", c.lat, c.lon) for c in extra],
            operators=operators or None,
            seconds=seconds,
        )
        if out is not None:
            write_cells(plans, out, app.settings.lang)
    needing = sum(1 for b in backups if b.status == "none")
    if as_json:
        echo_json(
            {
                "stations_without_backup": needing,
                "height_m": cell.height_m,
                "power_dbm": cell.tx_power_dbm,
                "operators": [p.as_dict() for p in plans],
                "file": str(out) if out else None,
            }
        )
        return
    console = stdout()
    console.print(
        tr(
            "Temporary LTE cells for {count} stations without usable backup "
            "(cells {height} m high, {power} dBm):",
            count=needing,
            height=format_number(cell.height_m, decimals=1),
            power=format_number(cell.tx_power_dbm, decimals=1),
        )
    )
    for plan in plans:
        how = (
            gettext("exact: the fewest possible")
            if plan.method == "exact"
            else tr("greedy: at least {bound} are needed", bound=plan.lower_bound)
        )
        console.print(
            tr(
                "{operator}: {sites} sites ({how})",
                operator=plan.operator,
                sites=len(plan.sites),
                how=how,
            )
        )
        for site in plan.sites:
            console.print(
                "  "
                + tr(
                    "{site} ({kind}) covers {count}: {stations}",
                    site=site.code,
                    kind=gettext(SITE_KINDS[site.kind]),
                    count=len(site.stations),
                    stations=" ".join(
                        f"{code}*" if i < site.critical else code
                        for i, code in enumerate(site.stations)
                    ),
                )
            )
        if plan.uncovered:
            console.print(
                "  "
                + tr(
                    "no candidate site reaches: {stations}",
                    stations=" ".join(plan.uncovered),
                )
            )
    if any(site.critical for plan in plans for site in plan.sites):
        console.print(gettext("(* critical station)"))
    if out is not None:
        console.print(tr("the chosen sites written to {path}", path=str(out)))


def _missing_line(b: StationBackup) -> str:
    best = b.best
    nearest = (
        tr(
            "strongest {operator} {tower}, {rsrp} dBm at {distance} m",
            operator=best.operator,
            tower=best.tower,
            rsrp=format_number(best.rsrp_dbm, decimals=1),
            distance=round(best.distance_m),
        )
        if best
        else gettext("no LTE tower within range")
    )
    critical = f" ({gettext('critical')})" if b.critical else ""
    return f"  {b.station}{critical} · {tr('district {number}', number=b.district)} · {nearest}"


@click.group("towers")
def towers() -> None:
    """The mobile operators' towers (the source of the stations' LTE backup)."""


@towers.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_app
def towers_import(app: App, file: Path, as_json: bool) -> None:
    """Add or update towers from a CSV/XLSX file (own columns, or an OpenCelliD export)."""
    with busy(gettext("Importing towers")):
        result = import_towers(app.engine, file, app.settings.bbox)
    if as_json:
        echo_json({**asdict(result), "towers": result.towers})
        return
    stdout().print(
        tr(
            "Towers from {file} ({format}): {added} added, {changed} changed, "
            "{unchanged} unchanged.",
            file=result.file,
            format=result.format,
            added=result.added,
            changed=result.changed,
            unchanged=result.unchanged,
        )
    )


COMMANDS = [coverage, towers]
