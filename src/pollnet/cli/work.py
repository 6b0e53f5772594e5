"""``pollnet work``: generate work orders from a plan, list them, update their status, and
exchange status sheets with the agencies."""

from __future__ import annotations

import datetime as dt
import getpass
import os
from pathlib import Path
from typing import Any

import click

from pollnet.cli._common import App, busy, echo_json, pass_app, stdout
from pollnet.cli.areas import area_filters, area_options
from pollnet.errors import NotFoundError, UserError
from pollnet.i18n import format_date, gettext, tr
from pollnet.model import Agency
from pollnet.plan import store as plan_store
from pollnet.rollout import store as rollout_store
from pollnet.rollout.sheets import export_sheet, kind_label, read_updates, status_label
from pollnet.rollout.status import SETTABLE, STATUSES, StatusUpdate
from pollnet.rollout.templates import RolloutConfig, load_config
from pollnet.rollout.workorders import in_areas
from pollnet.values import parse_date

AGENCIES = [a.value for a in Agency]


def rollout_config(app: App) -> RolloutConfig:
    """The rollout configuration of this invocation's settings."""
    return load_config(app.settings.section("rollout"))


def who(by: str | None) -> str:
    """Who makes a change: ``--by``, ``POLLNET_USER`` or the login name."""
    return by or os.environ.get("POLLNET_USER") or getpass.getuser()


def today_option(func: click.decorators.FC) -> click.decorators.FC:
    """``--today DATE``: the date to act as today (Jalali or Gregorian; default the clock)."""
    return click.option(
        "--today", "today", help="Act as if today were this date (1405/09/08 or 2026-11-29)."
    )(func)


def resolve_today(text: str | None) -> dt.date:
    """``--today`` as a date, or the clock's date."""
    return parse_date(text, column="--today") if text else dt.date.today()


def now() -> dt.datetime:
    """The clock, in UTC."""
    return dt.datetime.now(dt.UTC)


@click.group()
def work() -> None:
    """Work orders of the four agencies."""


@work.command("generate")
@click.argument("plan_id", required=False)
@click.option("--by", help="Who generates (default: POLLNET_USER or the login name).")
@today_option
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_app
def generate_cmd(
    app: App, plan_id: str | None, by: str | None, today: str | None, as_json: bool
) -> None:
    """Generate work orders from PLAN_ID (default: the latest plan); keep existing status."""
    from pollnet.plan.store import latest_plan_id, load_plan

    plan_id = plan_id or latest_plan_id(app.engine)
    if plan_id is None:
        raise NotFoundError.of("no plan yet: run pollnet plan first")
    with busy(gettext("Generating the work orders")):
        plan = load_plan(app.engine, plan_id)
        orders, diff = rollout_store.generate_into_store(
            app.engine,
            plan,
            rollout_config(app),
            by=who(by),
            now=now(),
            today=resolve_today(today),
        )
    if as_json:
        echo_json(
            {
                "plan_id": plan_id,
                "work_orders": len(orders),
                **diff.summary(),
                "added_ids": diff.added[:100],
                "cancelled_ids": diff.cancelled[:100],
            }
        )
        return
    out = stdout()
    out.print(tr("{count} work orders from plan", count=len(orders)) + f" {plan_id}")
    for label, ids in (
        ("added", diff.added),
        ("kept", diff.kept),
        ("cancelled", diff.cancelled),
        ("reactivated", diff.reactivated),
    ):
        out.print(f"  {gettext(label)}: {tr('{count}', count=len(ids))}")
    for label, ids in (("added", diff.added), ("cancelled", diff.cancelled)):
        if ids and len(ids) <= 50:
            out.print(f"{gettext(label)}: " + " ".join(ids))


@work.command("list")
@click.option("--agency", type=click.Choice(AGENCIES), help="Only this agency's work.")
@click.option("--district", type=int, help="Only this municipal district.")
@area_options
@click.option("--status", type=click.Choice(STATUSES), help="Only work in this status.")
@click.option("--overdue", is_flag=True, help="Only work past its due date and not done.")
@click.option("--limit", type=int, default=0, help="At most this many (0: all).")
@today_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@pass_app
def list_cmd(
    app: App,
    agency: str | None,
    district: int | None,
    county: str | None,
    municipality: str | None,
    education_district: str | None,
    status: str | None,
    overdue: bool,
    limit: int,
    today: str | None,
    as_json: bool,
) -> None:
    """List work orders."""
    filters = area_filters(app, county, municipality, education_district)
    with busy(gettext("Loading the work orders")):
        orders, states = rollout_store.load_work_orders(app.engine)
    orders = in_areas(orders, filters)
    day = resolve_today(today)
    shown = 0
    out = stdout()
    rows: list[dict[str, Any]] = []
    for order in orders:
        state = states[order.id]
        if (agency and order.agency != agency) or (district and order.district != district):
            continue
        if status and state.status != status:
            continue
        late = state.due_on is not None and state.due_on < day and state.status != "done"
        if overdue and not late:
            continue
        if as_json:
            rows.append(
                {
                    "id": order.id,
                    "kind": order.kind,
                    "agency": order.agency,
                    "scope": order.scope,
                    "district": order.district,
                    "county": order.county,
                    "municipality": order.municipality,
                    "education_district": order.education_district,
                    "station": order.station,
                    "subject": order.subject,
                    "quantity": order.quantity,
                    "unit": order.unit,
                    "status": state.status,
                    "due_on": state.due_on,
                    "started_on": state.started_on,
                    "done_on": state.done_on,
                    "measured_rx_dbm": state.measured_rx_dbm,
                    "predecessors": order.predecessors,
                }
            )
        else:
            due = format_date(state.due_on, app.settings.lang) if state.due_on else "-"
            out.print(
                f"{order.id}\t{kind_label(order.kind)}\t{status_label(state.status)}\t"
                f"{tr('{n}', n=order.district)}\t{due}"
            )
        shown += 1
        if limit and shown >= limit:
            break
    if as_json:
        echo_json(rows)


@work.command("update")
@click.argument("order_id")
@click.option("--status", type=click.Choice(SETTABLE), help="The new status.")
@click.option("--date", "day", help="When it started or finished (Jalali or Gregorian).")
@click.option("--rx", "rx", type=float, help="Optical test: measured received power (dBm).")
@click.option("--note", help="A note kept in the history.")
@click.option("--by", help="Who reports (default: POLLNET_USER or the login name).")
@click.option("--agency", type=click.Choice(AGENCIES), help="On behalf of which agency.")
@today_option
@pass_app
def update_cmd(
    app: App,
    order_id: str,
    status: str | None,
    day: str | None,
    rx: float | None,
    note: str | None,
    by: str | None,
    agency: str | None,
    today: str | None,
) -> None:
    """Change the status of one work order (kept in the history)."""
    update = StatusUpdate(
        order_id, status, parse_date(day, column="--date") if day else None, rx, note
    )
    outcome = rollout_store.update_status(
        app.engine,
        [update],
        by=who(by),
        agency=agency,
        source="cli",
        today=resolve_today(today),
        now=now(),
    )
    stdout().print(tr("{count} changes recorded", count=len(outcome.changes)))


@work.command("export")
@click.option("--agency", type=click.Choice(AGENCIES), help="Only this agency's work.")
@area_options
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The sheet to write (default: work-orders-<agency>[-<area>].xlsx).",
)
@pass_app
def export_cmd(
    app: App,
    agency: str | None,
    county: str | None,
    municipality: str | None,
    education_district: str | None,
    out_path: Path | None,
) -> None:
    """Write the status sheet (XLSX) an agency fills in: a municipality's with
    --municipality, an education district's with --education-district."""
    from pollnet.registry import list_stations

    filters = area_filters(app, county, municipality, education_district)
    scope = "-".join(filters.values())
    path = out_path or Path(f"work-orders-{agency or 'all'}{'-' + scope if scope else ''}.xlsx")
    with busy(gettext("Writing the status sheet")):
        orders, states = rollout_store.require_work_orders(app.engine)
        orders = in_areas(orders, filters)
        sites = {r.code: (r.site, r.address) for r in list_stations(app.engine)}
        plan = plan_store.plan_parameters(app.engine, orders.plan_id) if orders.plan_id else {}
        count = export_sheet(
            path,
            orders,
            states,
            agency=agency,
            lang=app.settings.lang,
            sites=sites,
            attribution=plan.get("street_attribution"),
        )
    stdout().print(tr("{count} work orders written to {path}", count=count, path=str(path)))


@work.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--skip-invalid", is_flag=True, help="Apply the valid rows, report the others.")
@click.option("--by", help="Who reports (default: POLLNET_USER or the login name).")
@click.option("--agency", type=click.Choice(AGENCIES), help="On behalf of which agency.")
@today_option
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_app
def import_cmd(
    app: App,
    file: Path,
    skip_invalid: bool,
    by: str | None,
    agency: str | None,
    today: str | None,
    as_json: bool,
) -> None:
    """Apply a filled-in status sheet (XLSX or CSV); with any error nothing changes."""
    with busy(gettext("Checking and applying the status sheet")):
        updates, problems = read_updates(file)
        outcome = rollout_store.update_status(
            app.engine,
            updates,
            by=who(by),
            agency=agency,
            source=str(file),
            today=resolve_today(today),
            now=now(),
            skip_invalid=skip_invalid,
            problems=problems,
        )
    if as_json:
        echo_json(
            {
                "applied": outcome.applied,
                "rejected": outcome.rejected,
                "changes": len(outcome.changes),
                "problems": [p.render() for p in outcome.problems],
            }
        )
        return
    out = stdout()
    for problem in outcome.problems:
        out.print(f"{gettext('skipped')}: {problem.render()}")
    out.print(
        tr(
            "{applied} rows applied, {rejected} rejected, {changes} changes recorded",
            applied=outcome.applied,
            rejected=outcome.rejected,
            changes=len(outcome.changes),
        )
    )


@work.command("history")
@click.argument("order_id", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@pass_app
def history_cmd(app: App, order_id: str | None, as_json: bool) -> None:
    """Every recorded change (of one work order, or all)."""
    with busy(gettext("Loading the history")):
        entries = rollout_store.read_history(app.engine, order_id)
    if order_id and not entries:
        raise UserError.of("unknown work order: {id}", id=order_id)
    if as_json:
        echo_json([e.__dict__ for e in entries])
        return
    for e in entries:
        click.echo(e.render(app.settings.lang))  # tab-separated, tabs kept


COMMANDS = [work]
