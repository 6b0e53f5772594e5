"""``pollnet schedule``: the crew-limited schedule, each station's and district's forecast,
stations at risk with the chain that makes them late, and crew what-ifs."""

from __future__ import annotations

import click

from pollnet.cli._common import App, busy, echo_json, pass_app, stdout
from pollnet.cli.work import resolve_today, rollout_config, today_option
from pollnet.i18n import format_date, gettext, join_list, tr
from pollnet.rollout import store as rollout_store
from pollnet.rollout.schedule import (
    PRIORITIES,
    CrewSuggestion,
    Forecast,
    forecast,
    suggest_crews,
)
from pollnet.rollout.sheets import agency_label
from pollnet.rollout.templates import CrewChange


@click.command("schedule")
@click.option(
    "--crews",
    "crews",
    multiple=True,
    help="What-if: more or fewer crews, agency:district=+n (e.g. telecom:5=+3); repeatable.",
)
@click.option(
    "--priority",
    type=click.Choice(PRIORITIES),
    default="critical_path",
    show_default=True,
    help="Which ready work a crew takes first.",
)
@click.option("--baseline", is_flag=True, help="Record the forecast finish dates as due dates.")
@click.option("--at-risk", "at_risk_limit", type=int, default=20, help="Stations at risk shown.")
@click.option("--stations", "per_station", is_flag=True, help="With --json: every station's date.")
@click.option(
    "--suggest-crews",
    "suggest",
    is_flag=True,
    help="Search the what-if for the fewest extra crews of each agency that meet the deadline.",
)
@today_option
@click.option("--json", "as_json", is_flag=True, help="Print the forecast as JSON.")
@pass_app
def schedule_cmd(
    app: App,
    crews: tuple[str, ...],
    priority: str,
    baseline: bool,
    at_risk_limit: int,
    per_station: bool,
    suggest: bool,
    today: str | None,
    as_json: bool,
) -> None:
    """Forecast when every station is ready, against election day."""
    config = rollout_config(app)
    day = resolve_today(today)
    with busy(gettext("Scheduling the work orders")):
        orders, states, before = rollout_store.forecast_from_store(
            app.engine,
            config,
            day,
            app.settings.election_date,
            priority=priority,  # type: ignore[arg-type]
        )
    changes = tuple(CrewChange.parse(c) for c in crews)
    after: Forecast | None = None
    if changes:
        after = forecast(
            orders,
            config,
            day,
            app.settings.election_date,
            states,
            priority=priority,  # type: ignore[arg-type]
            crew_changes=changes,
        )
    suggestion: CrewSuggestion | None = None
    if suggest and before.at_risk:
        with busy(gettext("Searching for the crews that meet the deadline")):
            suggestion = suggest_crews(
                orders,
                config,
                day,
                app.settings.election_date,
                states,
                priority=priority,  # type: ignore[arg-type]
            )
    if baseline:
        rollout_store.set_due_dates(
            app.engine,
            {
                o.id: before.schedule.finish_date(o.id)
                for o in orders
                if states[o.id].status != "done"
            },
        )
    if as_json:
        result: dict[str, object] = {
            "forecast": before.summary(),
            "at_risk": [
                {
                    "station": a.station,
                    "district": a.district,
                    "ready": a.ready.isoformat(),
                    "chain": [link.order_id for link in a.chain],
                }
                for a in before.at_risk[:at_risk_limit]
            ],
        }
        if per_station:
            result["stations"] = {
                k: v.isoformat() for k, v in before.schedule.station_ready().items()
            }
        if after is not None:
            result["what_if"] = {"crews": list(crews), "forecast": after.summary()}
        if suggestion is not None:
            result["suggested_crews"] = {
                "crews": suggestion.as_option().split(),
                "meets_deadline": suggestion.meets_deadline,
                "forecast": suggestion.forecast.summary(),
            }
        echo_json(result)
        return
    out = stdout()
    last = before.schedule.last_ready()
    out.print(
        tr(
            "Election day {election}; deadline {deadline} (safety buffer)",
            election=before.election_date,
            deadline=before.deadline,
        )
    )
    out.print(
        tr(
            "Last station ready: {date}; stations at risk: {count}",
            date=last or "-",
            count=len(before.at_risk),
        )
    )
    districts_after = after.schedule.district_ready() if after else {}
    for district, ready in before.schedule.district_ready().items():
        line = (
            f"  {tr('district {number}', number=district)}: {format_date(ready, app.settings.lang)}"
        )
        if after is not None:
            moved = districts_after[district]
            line += f" → {format_date(moved, app.settings.lang)}"
            delta = (moved - ready).days
            line += f" ({tr('{days} days', days=delta)})"
        out.print(line + (" !" if ready > before.deadline else ""))
    if after is not None:
        out.print(
            tr(
                "With {crews}: last station ready {date}; stations at risk: {count}",
                crews=" ".join(crews),
                date=after.schedule.last_ready() or "-",
                count=len(after.at_risk),
            )
        )
    if suggestion is not None:
        out.print(_suggestion_line(suggestion, app.settings.lang))
    elif before.at_risk and not suggest:
        out.print(gettext("pollnet schedule --suggest-crews finds how many more crews would do."))
    for item in before.at_risk[:at_risk_limit]:
        chain = " → ".join(
            link.order_id + ("*" if link.waited_for_crew else "") for link in item.chain[-5:]
        )
        shown = format_date(item.ready, app.settings.lang)
        out.print(f"{gettext('at risk')}: {item.station} ({shown}): {chain}")


def _suggestion_line(suggestion: CrewSuggestion, lang: str) -> str:
    """What the search found, as one line: the crews per agency, the option, the new date."""
    if not suggestion.meets_deadline:
        return gettext(
            "No number of crews meets the deadline: waiting times (permits) alone make stations "
            "late.",
            lang,
        )
    crews = join_list(
        (
            tr(
                "{count} more crews of {agency}",
                lang,
                count=c.delta,
                agency=agency_label(c.agency, lang),
            )
            for c in suggestion.changes
        ),
        lang,
    )
    return tr(
        "To meet the deadline: {crews} in every district (--crews {option}); last station "
        "ready {date}",
        lang,
        crews=crews,
        option=suggestion.as_option(),
        date=suggestion.forecast.schedule.last_ready() or "-",
    )


COMMANDS = [schedule_cmd]
