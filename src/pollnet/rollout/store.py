"""Work orders in the database: generations, states, status updates and their history.

Nothing is overwritten without trace: every change of a status, date, measurement or note is a
row of ``rollout_history`` (who, which agency, when, from where, old and new value); work that
leaves the plan is kept with the status ``cancelled``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from pollnet.errors import Problem, UserError
from pollnet.plan.model import Plan
from pollnet.rollout.schedule import Forecast, Priority, forecast, schedule
from pollnet.rollout.status import Change, OrderState, Outcome, StatusUpdate, apply_updates
from pollnet.rollout.templates import CrewChange, RolloutConfig
from pollnet.rollout.workorders import (
    AreaLookup,
    Regeneration,
    WorkOrder,
    WorkOrderSet,
    generate,
    in_areas,
    reconcile,
    validate_dag,
)
from pollnet.store.schema.rollout import generations, history, work_orders


@dataclass(frozen=True)
class HistoryEntry:
    """One recorded change of one field of one work order."""

    order_id: str
    field: str
    old: str | None
    new: str | None
    changed_at: dt.datetime
    changed_by: str
    agency: str | None
    source: str
    note: str

    def render(self, lang: str) -> str:
        """The entry as one tab-separated line in ``lang``: local date and time (Jalali in
        Persian), work order, field, old -> new value, who, agency, from where, note."""
        from pollnet.i18n import format_moment, gettext, tr
        from pollnet.rollout.sheets import agency_label

        if self.source == "cli":
            source = gettext("command line", lang)
        elif self.source.startswith("generate"):
            source = tr("work generate {plan}", lang, plan=self.source[len("generate") :].strip())
        else:
            source = self.source  # the file the update came from, as written
        return "\t".join(
            (
                format_moment(self.changed_at, lang),
                self.order_id,
                gettext(HISTORY_FIELDS.get(self.field, self.field), lang),
                f"{_history_value(self.field, self.old, lang)} → "
                f"{_history_value(self.field, self.new, lang)}",
                self.changed_by,
                agency_label(self.agency, lang) if self.agency else "-",
                source,
                self.note,
            )
        )


HISTORY_FIELDS: Mapping[str, str] = {
    "status": "Status",
    "started_on": "started",
    "done_on": "finished",
    "measured_rx_dbm": "Measured power (dBm)",
    "note": "Note",
}
"""English msgids naming the fields a history entry can record."""


def _history_value(field: str, value: str | None, lang: str) -> str:
    """A recorded value for display: statuses named, dates in the calendar of ``lang``,
    measurements as numbers; free text (notes) as written."""
    from pollnet.i18n import format_date, format_number
    from pollnet.rollout.sheets import status_label

    if value is None or value == "":
        return "-"
    if field == "status":
        return status_label(value, lang)
    if field in ("started_on", "done_on"):
        return format_date(dt.date.fromisoformat(value), lang)
    if field == "measured_rx_dbm":
        return format_number(float(value), lang, decimals=2)
    return value


def _definition(order: WorkOrder, seq: int, plan_id: str | None) -> dict[str, object]:
    return {
        "seq": seq,
        "plan_id": plan_id,
        "kind": order.kind,
        "agency": order.agency,
        "district": order.district,
        "station_code": order.station,
        "subject": order.subject[:300],
        "method": order.method,
        "quantity": order.quantity,
        "unit": order.unit,
        "duration_days": order.duration_days,
        "crew": order.crew,
        "min_rx_dbm": order.min_rx_dbm,
        "predecessors": " ".join(order.predecessors),
        "county": order.county,
        "municipality": order.municipality,
        "education_district": order.education_district,
    }


def save_work_orders(
    engine: Engine, orders: WorkOrderSet, *, by: str, now: dt.datetime
) -> Regeneration:
    """Store freshly generated ``orders``: add new ones, keep the status of existing ones,
    cancel the ones no longer in the plan; return what changed."""
    source = f"generate {orders.plan_id or ''}".strip()
    with engine.begin() as conn:
        query = sa.select(work_orders.c.id, work_orders.c.status)
        stored: dict[str, str] = {k: v for k, v in conn.execute(query)}
        diff = reconcile(stored, orders)
        added = set(diff.added)
        new_rows, old_rows = [], []
        for seq, order in enumerate(orders):
            row = _definition(order, seq, orders.plan_id)
            if order.id in added:
                row |= {
                    "id": order.id,
                    "status": "planned",
                    "note": "",
                    "updated_at": now,
                    "updated_by": by,
                }
                new_rows.append(row)
            else:
                old_rows.append({"id": order.id, **row})
        _executemany(conn, work_orders, new_rows)
        _executemany(conn, work_orders, old_rows, key="id")
        changes = [Change(i, "status", None, "planned") for i in diff.added]
        changes += [Change(i, "status", stored[i], "cancelled") for i in diff.cancelled]
        changes += [Change(i, "status", "cancelled", "planned") for i in diff.reactivated]
        moved = [(i, "cancelled") for i in diff.cancelled] + [
            (i, "planned") for i in diff.reactivated
        ]
        if moved:
            conn.execute(
                work_orders.update()
                .where(work_orders.c.id == sa.bindparam("b_id"))
                .values(
                    status=sa.bindparam("b_status"),
                    updated_at=now,
                    updated_by=by,
                ),
                [{"b_id": i, "b_status": s} for i, s in moved],
            )
        _write_history(conn, changes, by=by, agency=None, source=source, now=now)
        conn.execute(
            generations.insert().values(
                plan_id=orders.plan_id,
                generated_at=now,
                generated_by=by,
                **diff.summary(),
            )
        )
    return diff


def _executemany(conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]],
                 key: str | None = None) -> None:  # fmt: skip
    """INSERT ``rows`` into ``table`` (or UPDATE them by the column ``key``) in one DBAPI
    ``executemany``, with the column types' own conversions: SQLAlchemy's per-row statement
    machinery costs more than the database for tens of thousands of rows."""
    if not rows:
        return
    names = list(rows[0])
    dialect = conn.dialect
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    quote = dialect.identifier_preparer.quote
    if key is None:
        sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
               f"VALUES ({', '.join(mark for _ in names)})")  # fmt: skip
        order = names
    else:
        order = [n for n in names if n != key] + [key]
        sets = ", ".join(f"{quote(n)} = {mark}" for n in order[:-1])
        sql = f"UPDATE {quote(table.name)} SET {sets} WHERE {quote(key)} = {mark}"
    procs = [table.c[n].type.bind_processor(dialect) for n in order]
    params = [
        tuple(p(row[n]) if p is not None and row[n] is not None else row[n]
              for n, p in zip(order, procs, strict=True))
        for row in rows
    ]  # fmt: skip
    conn.exec_driver_sql(sql, params)


def _write_history(
    conn: Connection,
    changes: Sequence[Change],
    *,
    by: str,
    agency: str | None,
    source: str,
    now: dt.datetime,
) -> None:
    if changes:
        _executemany(
            conn,
            history,
            [
                {
                    "order_id": c.order_id,
                    "field": c.field,
                    "old_value": c.old,
                    "new_value": c.new,
                    "changed_at": now,
                    "changed_by": by,
                    "agency": agency,
                    "source": source[:300],
                    "note": c.note,
                }
                for c in changes
            ],
        )


def load_work_orders(engine: Engine) -> tuple[WorkOrderSet, dict[str, OrderState]]:
    """The live (not cancelled) work orders and the state of every stored work order."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(*_COLUMNS).order_by(work_orders.c.seq)).all()
    orders, states = _from_rows(rows)
    return WorkOrderSet(orders.plan_id, validate_dag(orders.orders)), states


_c = work_orders.c
_COLUMNS = (
    _c.id, _c.status, _c.started_on, _c.done_on, _c.measured_rx_dbm, _c.due_on, _c.note,
    _c.plan_id, _c.kind, _c.agency, _c.district, _c.subject, _c.quantity, _c.unit,
    _c.duration_days, _c.crew, _c.predecessors, _c.station_code, _c.method, _c.min_rx_dbm,
    _c.county, _c.municipality, _c.education_district,
)  # fmt: skip


def _from_rows(rows: Sequence[Any]) -> tuple[WorkOrderSet, dict[str, OrderState]]:
    """Work orders (not sorted) and states from rows of :data:`_COLUMNS`."""
    states: dict[str, OrderState] = {}
    items: list[WorkOrder] = []
    plan_id: str | None = None
    for row in rows:
        states[row[0]] = OrderState(*row[:6], row[6] or "")  # type: ignore[call-arg]
        if row[1] == "cancelled":
            continue
        plan_id = row[7]
        preds = tuple(row[16].split()) if row[16] else ()
        items.append(WorkOrder(row[0], *row[8:16], preds, *row[17:]))  # type: ignore[call-arg]
    return WorkOrderSet(plan_id, tuple(items)), states


def _load_around(engine: Engine, ids: set[str]) -> tuple[WorkOrderSet, dict[str, OrderState]]:
    """The work orders ``ids``, their predecessors and successors, with their states.

    All that validating updates of ``ids`` needs, without building every work order of the
    city (a bulk file touches a few thousand of tens of thousands).
    """
    c = work_orders.c
    query = sa.select(*_COLUMNS).where(c.id.in_(sa.bindparam("ids", expanding=True)))

    def fetch(conn: Connection, wanted: Sequence[str]) -> list[Any]:
        found: list[Any] = []
        for start in range(0, len(wanted), 5000):
            found += conn.execute(query, {"ids": wanted[start : start + 5000]}).all()
        return found

    with engine.connect() as conn:
        if conn.scalar(sa.select(c.id).limit(1)) is None:
            raise UserError.of("no work orders yet: run pollnet work generate first")
        rows = fetch(conn, sorted(ids))
        have = {r[0] for r in rows}
        before = {p for r in rows if r[16] for p in r[16].split()} - have
        rows += fetch(conn, sorted(before))
        have |= before
        done = {r[0] for r in rows if r[1] == "done" and r[0] in ids}
        if done:  # reopening done work needs the status of what follows it
            after = [
                order_id
                for order_id, preds in conn.execute(
                    sa.select(c.id, c.predecessors).where(c.predecessors != "")
                )
                if order_id not in have and not done.isdisjoint(preds.split())
            ]
            rows += fetch(conn, after)
    orders, states = _from_rows(rows)
    return orders, states


def require_work_orders(engine: Engine) -> tuple[WorkOrderSet, dict[str, OrderState]]:
    """Like :func:`load_work_orders`, but a user error when none were generated yet."""
    orders, states = load_work_orders(engine)
    if not len(orders):
        raise UserError.of("no work orders yet: run pollnet work generate first")
    return orders, states


def update_status(
    engine: Engine,
    updates: Sequence[StatusUpdate],
    *,
    by: str,
    agency: str | None,
    source: str,
    today: dt.date,
    now: dt.datetime,
    skip_invalid: bool = False,
    problems: Sequence[Problem] = (),
) -> Outcome:
    """Validate and apply ``updates``; with any problem nothing changes unless ``skip_invalid``.

    ``problems`` found while reading the updates (unreadable cells) count as well. A
    :class:`UserError` lists every problem (file, row, column) when nothing was applied.
    """
    orders, states = _load_around(engine, {u.order_id for u in updates})
    outcome = apply_updates(orders, states, updates, today)
    if problems:
        outcome = replace(
            outcome,
            problems=(*problems, *outcome.problems),
            rejected=outcome.rejected + len(problems),
        )
    if outcome.problems and not skip_invalid:
        raise UserError(outcome.problems)
    if not outcome.states:
        return outcome
    rows = [
        {
            "id": s.id,
            "status": s.status,
            "started_on": s.started_on,
            "done_on": s.done_on,
            "measured_rx_dbm": s.measured_rx_dbm,
            "note": s.note,
            "updated_at": now,
            "updated_by": by,
        }
        for s in outcome.states.values()
    ]
    with engine.begin() as conn:
        _executemany(conn, work_orders, rows, key="id")
        _write_history(conn, outcome.changes, by=by, agency=agency, source=source, now=now)
    return outcome


def set_due_dates(engine: Engine, due: Mapping[str, dt.date]) -> None:
    """Record ``due`` (work order -> date) as the baseline that "overdue" is measured against."""
    if due:
        with engine.begin() as conn:
            _executemany(
                conn, work_orders, [{"id": k, "due_on": v} for k, v in due.items()], key="id"
            )


def read_history(engine: Engine, order_id: str | None = None) -> list[HistoryEntry]:
    """The recorded changes (of one work order, or all), oldest first."""
    query = sa.select(history).order_by(history.c.id)
    if order_id is not None:
        query = query.where(history.c.order_id == order_id)
    with engine.connect() as conn:
        return [
            HistoryEntry(
                r["order_id"],
                r["field"],
                r["old_value"],
                r["new_value"],
                r["changed_at"],
                r["changed_by"],
                r["agency"],
                r["source"],
                r["note"],
            )
            for r in conn.execute(query).mappings()
        ]


def generate_into_store(
    engine: Engine,
    plan: Plan,
    config: RolloutConfig,
    *,
    by: str,
    now: dt.datetime,
    today: dt.date,
) -> tuple[WorkOrderSet, Regeneration]:
    """Generate the work orders of ``plan``, store them, and give new ones a baseline due date.

    The due dates come from a critical-path schedule starting ``today``; work that already had
    one keeps it (re-baseline with :func:`set_due_dates`).
    """
    orders = generate(plan, config, area_lookup(engine))
    diff = save_work_orders(engine, orders, by=by, now=now)
    _, states = load_work_orders(engine)
    plan_schedule = schedule(orders, config, today, states)
    set_due_dates(
        engine,
        {
            o.id: plan_schedule.finish_date(o.id)
            for o in orders
            if states[o.id].due_on is None and states[o.id].status != "done"
        },
    )
    return orders, diff


def area_lookup(engine: Engine) -> AreaLookup:
    """The stored areas and the stations' areas, for placing work orders in them."""
    from pollnet import areas

    return AreaLookup(areas.load_areas(engine), areas.links(engine))


def forecast_from_store(
    engine: Engine,
    config: RolloutConfig,
    today: dt.date,
    election_date: dt.date,
    *,
    priority: Priority = "critical_path",
    crew_changes: tuple[CrewChange, ...] = (),
    areas: Mapping[str, str] | None = None,
) -> tuple[WorkOrderSet, dict[str, OrderState], Forecast]:
    """The stored work orders, their states and their forecast from ``today``.

    ``areas`` (kind -> area code) keeps the work in those areas and the work it waits on; the
    forecast then assumes the crews work on that alone.
    """
    orders, states = require_work_orders(engine)
    orders = in_areas(orders, areas or {}, upstream=True)
    result = forecast(
        orders, config, today, election_date, states, priority=priority, crew_changes=crew_changes
    )
    return orders, states, result
