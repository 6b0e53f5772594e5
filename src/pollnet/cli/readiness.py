"""``pollnet readiness``: stations planned, in progress, fiber ready, device verified."""

from __future__ import annotations

import click

from pollnet.cli._common import App, busy, echo_json, pass_app, stdout
from pollnet.cli.areas import area_filters, area_options
from pollnet.cli.work import resolve_today, rollout_config, today_option
from pollnet.i18n import format_date, gettext, tr
from pollnet.rollout import store as rollout_store
from pollnet.rollout.readiness import STAGES, readiness
from pollnet.rollout.report import STAGE_LABELS


@click.command("readiness")
@area_options
@today_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def readiness_cmd(
    app: App,
    county: str | None,
    municipality: str | None,
    education_district: str | None,
    today: str | None,
    as_json: bool,
) -> None:
    """How ready the stations are, by district, with the forecast."""
    with busy(gettext("Forecasting the work orders")):
        orders, states, result = rollout_store.forecast_from_store(
            app.engine,
            rollout_config(app),
            resolve_today(today),
            app.settings.election_date,
            areas=area_filters(app, county, municipality, education_district),
        )
        rows = readiness(orders, states, result)
    if as_json:
        echo_json(
            {"deadline": result.deadline.isoformat(), "districts": [r.as_dict() for r in rows]}
        )
        return
    out = stdout()
    lang = app.settings.lang
    out.print(
        "\t".join(
            [
                gettext("District"),
                *[gettext(STAGE_LABELS[s]) for s in STAGES],
                gettext("Forecast"),
                gettext("At risk"),
            ]
        )
    )
    for r in rows:
        cells = [tr("{n}", n=r.district), *[tr("{n}", n=r.counts[s]) for s in STAGES]]
        cells += [format_date(r.forecast, lang) if r.forecast else "-", tr("{n}", n=r.at_risk)]
        out.print("\t".join(cells))


COMMANDS = [readiness_cmd]
