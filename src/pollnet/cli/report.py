"""``pollnet report``: the reports the agencies meet over."""

from __future__ import annotations

from pathlib import Path

import click

from pollnet.cli._common import App, pass_app, progress, stdout
from pollnet.cli.areas import area_filters, area_options
from pollnet.cli.work import resolve_today, rollout_config, today_option
from pollnet.i18n import gettext, to_jalali, tr
from pollnet.rollout import store as rollout_store
from pollnet.rollout.report import render_html, weekly, write_xlsx


@click.group()
def report() -> None:
    """Coordination reports."""


@report.command("weekly")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports"),
    show_default=True,
    help="Folder to write the report into.",
)
@area_options
@today_option
@pass_app
def weekly_cmd(
    app: App,
    out_dir: Path,
    county: str | None,
    municipality: str | None,
    education_district: str | None,
    today: str | None,
) -> None:
    """Write this week's coordination report as HTML and XLSX (in the output language); with
    an area option, of the work in that area and the work it waits on."""
    config = rollout_config(app)
    day = resolve_today(today)
    filters = area_filters(app, county, municipality, education_district)
    lang = app.settings.lang
    stem = f"weekly-{to_jalali(day).replace('/', '-') if lang == 'fa' else day.isoformat()}"
    if filters:
        stem += "-" + "-".join(filters.values())
    html_path, xlsx_path = out_dir / f"{stem}.html", out_dir / f"{stem}.xlsx"
    with progress(gettext("Forecasting the work orders"), total=4) as advance:
        orders, states, result = rollout_store.forecast_from_store(
            app.engine, config, day, app.settings.election_date, areas=filters
        )
        advance(description=gettext("Summarising the week"))
        data = weekly(orders, states, result, config.calendar, day)
        advance(description=gettext("Writing the HTML report"))
        out_dir.mkdir(parents=True, exist_ok=True)
        html_path.write_text(render_html(data, lang), encoding="utf-8")
        advance(description=gettext("Writing the XLSX workbook"))
        write_xlsx(data, xlsx_path, lang)
        advance()
    out = stdout()
    out.print(tr("Weekly report written to {path}", path=str(html_path)))
    out.print(tr("Weekly report written to {path}", path=str(xlsx_path)))


COMMANDS = [report]
