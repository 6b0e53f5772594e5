"""``pollnet sites``: the site review for the education districts (a thin layer over
:mod:`pollnet.sites`)."""

from __future__ import annotations

from pathlib import Path

import click

from pollnet.cli._common import App, Verbatim, busy, echo_json, pass_app, stdout
from pollnet.cli.areas import education_district_option
from pollnet.cli.plan import costs_option, streets_option
from pollnet.i18n import format_number, gettext, join_list, tr
from pollnet.sites import DEFAULT_RADIUS_M, SiteReview, StationReview


@click.group("sites")
def sites() -> None:
    """Site review: what each station's site costs and the cheaper buildings nearby."""


@sites.command("review")
@education_district_option
@click.option(
    "--candidates",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Candidate buildings (CSV, XLSX or GeoJSON: code, lat, lon; name, capacity, "
    "education_district), such as the education district's school list, or an OpenStreetMap "
    "file (.osm.pbf, .osm: its schools, or the buildings [sites] osm_tags names).",
)
@click.option(
    "--radius",
    "radius_m",
    type=click.FloatRange(min=0, min_open=True, max=10_000),
    default=DEFAULT_RADIUS_M,
    show_default=True,
    help="Price the candidate buildings within this many metres of a station.",
)
@streets_option
@costs_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write one workbook (XLSX) per education district into this folder.",
)
@click.option(
    "--map",
    "map_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the plan's map (HTML) with the review as a layer to this file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_app
def review_command(
    app: App,
    education_district: str | None,
    candidates: Path | None,
    radius_m: float,
    streets: Path | None,
    costs: Path | None,
    out_dir: Path | None,
    map_file: Path | None,
    as_json: bool,
) -> None:
    """Per station: its marginal cost in the plan, LTE backup, distance to fibre and the
    candidate buildings nearby that would be cheaper to connect, with the saving."""
    from pollnet.plan.whatif import MSG_NOT_STORED
    from pollnet.sites import review, write_district_books, write_review_map

    lang = app.settings.lang
    with busy(gettext("Reviewing the stations' sites")):
        found = review(
            app.engine,
            app.settings,
            candidates=candidates,
            education_district=education_district,
            radius_m=radius_m,
            streets=streets,
            costs=costs,
        )
        files = {
            f"xlsx:{k}": str(p)
            for k, p in (write_district_books(found, out_dir, lang) if out_dir else {}).items()
        }
        if map_file is not None:
            files["map"] = str(
                write_review_map(app.engine, found, map_file, lang, streets, app.settings)
            )
    if found.plan_id is None:
        click.echo(gettext(MSG_NOT_STORED), err=True)
    if as_json:
        echo_json({**found.as_dict(), "files": files})
        return
    _print(found, files)


TEXT_BUILDINGS = 3
"""The cheaper buildings the text lists per station (the JSON and the workbooks list all)."""


CRITICAL_NOTE = (
    "critical station: these savings count its first route only; its second route may cost "
    "more or less at another building (pollnet plan --move says)"
)


def _rials(value: float) -> str:
    return tr("{amount} million rials", amount=format_number(value / 1e6, decimals=1))


def _print(found: SiteReview, files: dict[str, str]) -> None:
    console = stdout()
    console.print(
        tr(
            "Site review of {stations} stations; {candidates} candidate buildings within "
            "{radius} m:",
            stations=format_number(len(found.stations)),
            candidates=format_number(found.candidates),
            radius=format_number(round(found.radius_m)),
        )
    )
    for district, stations in found.by_education_district().items():
        named = (
            tr("education district {number}", number=district)
            if district is not None
            else gettext("no education district")
        )
        connected = [s for s in stations if s.marginal_rial is not None]
        cheaper = [s for s in stations if s.cheaper]
        console.print(
            tr(
                "{district}: {stations} stations, {connected} connected at {cost}; {cheaper} "
                "with a cheaper building nearby, saving up to {saving}",
                district=named,
                stations=format_number(len(stations)),
                connected=format_number(len(connected)),
                cost=_rials(sum(s.marginal_rial or 0.0 for s in connected)),
                cheaper=format_number(len(cheaper)),
                saving=_rials(sum(s.best_saving_rial for s in cheaper)),
            )
        )
        for s in sorted(cheaper, key=lambda s: -s.best_saving_rial):
            console.print("  " + _station_line(s))
            for c in s.cheaper[:TEXT_BUILDINGS]:
                capacity = (
                    gettext("capacity not known")
                    if c.capacity is None
                    else tr("capacity {voters}", voters=format_number(c.capacity))
                )
                console.print(
                    "    "
                    + tr(
                        "{building} {name}, {distance} m away: saves {saving} ({capacity})",
                        building=c.code,
                        name=c.name,
                        distance=format_number(round(c.distance_m)),
                        saving=_rials(c.saving_rial),
                        capacity=capacity,
                    )
                )
            if len(s.cheaper) > TEXT_BUILDINGS:
                console.print(
                    "    "
                    + tr(
                        "… and {count} more (--json, --out)",
                        count=format_number(len(s.cheaper) - TEXT_BUILDINGS),
                    )
                )
            if s.critical:
                console.print("    " + gettext(CRITICAL_NOTE))
    for key, path in files.items():
        kind, _, number = key.partition(":")
        if kind != "xlsx":
            label = gettext("map")
        elif number == "none":
            label = gettext("workbook of the stations without an education district")
        else:
            label = tr(
                "workbook of education district {number}",
                number=int(number) if number.isdigit() else number,
            )
        console.print(f"{label}: {path}")
    if found.plan_id is not None:
        console.print(tr("from the stored plan {plan_id}", plan_id=found.plan_id))


_BACKUP = {
    None: "LTE backup not known (no towers)",
    "good": "LTE backup good",
    "usable": "LTE backup usable",
    "none": "no LTE backup",
}


def _station_line(s: StationReview) -> str:
    backup = gettext(_BACKUP[s.backup])
    fibre = "-" if s.fibre_m is None else format_number(round(s.fibre_m))
    return tr(
        "{station} ({site}, {voters} voters): costs {cost}; {backup}; fibre {fibre} m",
        station=s.code,
        site=s.site,
        voters=format_number(s.voters),
        cost=_rials(s.marginal_rial or 0.0),
        backup=backup,
        fibre=fibre,
    )


@sites.command("candidates")
@click.option(
    "--osm",
    "osm",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The OpenStreetMap file (.osm.pbf, .osm, .osm.bz2) to take the schools from.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The candidates file to write (.csv, .xlsx or .geojson), for the education district "
    "to correct and pass to --candidates.",
)
@click.option(
    "--headers",
    type=click.Choice(("fa", "en")),
    help="Language of the column names (default: the output language).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_app
def candidates_command(app: App, osm: Path, out: Path, headers: str | None, as_json: bool) -> None:
    """Write the schools of an OpenStreetMap file (or the buildings [sites] osm_tags names)
    inside the area as an editable candidates file, each with its education district."""
    from pollnet.sites.candidates import candidates_from_osm

    with busy(gettext("Reading the candidate buildings")):
        found = candidates_from_osm(
            app.engine, app.settings, osm, out, headers or app.settings.lang
        )
    districts: dict[str, int] = {}
    for c in found.candidates:
        if c.education_district is not None:
            key = str(c.education_district)
            districts[key] = districts.get(key, 0) + 1
    if as_json:
        echo_json({**found.as_dict(), "education_districts": districts, "out": str(out)})
        return
    console = stdout()
    count = len(found.candidates)
    console.print(
        tr(
            "Read {file}: {count} buildings tagged {tags} inside the area ({nodes} nodes, {ways} "
            "ways, {relations} multipolygons read); {outside} outside the area left out",
            file=Verbatim(osm.name),
            count=format_number(count),
            tags=", ".join(found.tags),
            nodes=format_number(found.found.get("node", 0)),
            ways=format_number(found.found.get("way", 0)),
            relations=format_number(found.found.get("relation", 0)),
            outside=format_number(found.outside),
        )
    )
    console.print(
        tr(
            "{count} with a capacity in OpenStreetMap; the other {missing} have none: their "
            "capacity is left empty (not guessed), fill it in",
            count=format_number(found.with_capacity),
            missing=format_number(count - found.with_capacity),
        )
    )
    if found.without_name:
        console.print(
            tr(
                "{count} without a name in OpenStreetMap",
                count=format_number(found.without_name),
            )
        )
    if found.bad_capacity:
        console.print(
            tr(
                "capacity tag not a whole number, left empty: {codes}",
                codes=Verbatim(", ".join(found.bad_capacity)),
            )
        )
    if found.unlocated:
        console.print(
            tr(
                "{count} tagged objects have no node in the file and were left out",
                count=format_number(found.unlocated),
            )
        )
    if districts:
        console.print(
            tr(
                "By education district (from the area polygons): {districts}; {none} in none",
                districts=join_list(
                    [
                        f"{format_number(int(k))}: {format_number(v)}"
                        for k, v in sorted(districts.items(), key=lambda kv: int(kv[0]))
                    ]
                ),
                none=format_number(count - sum(districts.values())),
            )
        )
    console.print(tr("candidates written to {path}", path=Verbatim(out)))


COMMANDS = [sites]
