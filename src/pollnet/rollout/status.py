"""Status of work orders: updates from the agencies, validated row by row, and what they change.

Pure: takes the work orders, their current states and the updates, and returns the new states,
the history entries and the problems. The store (:mod:`pollnet.rollout.store`) reads and writes
them; the bulk files (:mod:`pollnet.rollout.sheets`) produce the updates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from pollnet.errors import Location, Problem
from pollnet.rollout.workorders import WorkOrderSet

STATUSES: tuple[str, ...] = ("planned", "in_progress", "done", "failed", "cancelled")
"""Every status. ``cancelled`` is set only by regeneration; ``failed`` only on tests."""

SETTABLE: tuple[str, ...] = ("planned", "in_progress", "done", "failed")
TESTS: frozenset[str] = frozenset({"optical_test", "e2e_test"})
OPEN: frozenset[str] = frozenset({"planned", "in_progress", "failed"})


@dataclass(frozen=True)
class OrderState:
    """Where a work order stands. ``measured_rx_dbm`` is an optical test's received power."""

    id: str
    status: str = "planned"
    started_on: dt.date | None = None
    done_on: dt.date | None = None
    measured_rx_dbm: float | None = None
    due_on: dt.date | None = None
    note: str = ""


@dataclass(frozen=True)
class StatusUpdate:
    """One requested change (a CLI call or a row of a bulk file), as given.

    ``row`` is the data row (from 1) of ``file``; fields left ``None`` are not changed.
    """

    order_id: str
    status: str | None = None
    date: dt.date | None = None
    measured_rx_dbm: float | None = None
    note: str | None = None
    file: str | None = None
    row: int | None = None
    columns: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Change:
    """One field of one work order changed: an entry of the history."""

    order_id: str
    field: str
    old: str | None
    new: str | None
    note: str = ""


@dataclass(frozen=True)
class Outcome:
    """The result of validating updates: new states, history entries, problems, rows applied."""

    states: Mapping[str, OrderState]
    changes: tuple[Change, ...]
    problems: tuple[Problem, ...]
    applied: int
    rejected: int


def apply_updates(
    orders: WorkOrderSet,
    states: Mapping[str, OrderState],
    updates: Sequence[StatusUpdate],
    today: dt.date,
) -> Outcome:
    """Validate ``updates`` in order against ``states`` and apply the valid ones.

    Rows see the effect of earlier valid rows, so one file can finish a chain in order. Only
    the states that changed are returned.
    """
    current = dict(states)
    changed: dict[str, OrderState] = {}
    changes: list[Change] = []
    problems: list[Problem] = []
    seen_rows: dict[str, int | None] = {}
    applied = rejected = 0
    for update in updates:
        if _unchanged(current.get(update.order_id), update):
            seen_rows.setdefault(update.order_id, update.row)
            continue
        found = _check(orders, current, update, today, seen_rows)
        seen_rows.setdefault(update.order_id, update.row)
        if found:
            problems.extend(found)
            rejected += 1
            continue
        before = current.get(update.order_id) or OrderState(update.order_id)
        after = _updated(before, update, today)
        for name in ("status", "started_on", "done_on", "measured_rx_dbm", "note"):
            old, new = getattr(before, name), getattr(after, name)
            if old != new:
                changes.append(
                    Change(update.order_id, name, _text(old), _text(new), update.note or "")
                )
        current[update.order_id] = changed[update.order_id] = after
        applied += 1
    return Outcome(changed, tuple(changes), tuple(problems), applied, rejected)


def _unchanged(state: OrderState | None, update: StatusUpdate) -> bool:
    """Whether ``update`` only repeats what is stored (a row of an exported sheet left alone)."""
    if state is None or update.status not in (None, state.status):
        return False
    if update.date is not None:
        stored = state.done_on if state.status in ("done", "failed") else state.started_on
        if update.date != stored:
            return False
    return update.measured_rx_dbm in (None, state.measured_rx_dbm) and update.note in (
        None,
        state.note,
    )


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _updated(state: OrderState, update: StatusUpdate, today: dt.date) -> OrderState:
    status = update.status or state.status
    day = update.date or today
    started, done = state.started_on, state.done_on
    if status == "in_progress":
        started, done = (update.date or started or today), None
    elif status in ("done", "failed"):
        done = day
        started = started or day
    elif status == "planned":
        started, done = None, None
    rx = update.measured_rx_dbm if update.measured_rx_dbm is not None else state.measured_rx_dbm
    note = update.note if update.note is not None else state.note
    return replace(
        state, status=status, started_on=started, done_on=done, measured_rx_dbm=rx, note=note
    )


def _problem(update: StatusUpdate, column: str, message: str, **params: object) -> Problem:
    shown = (update.columns or {}).get(column, column) if update.file else None
    return Problem(message, params, Location(update.file, update.row, shown))


def _check(
    orders: WorkOrderSet,
    states: Mapping[str, OrderState],
    update: StatusUpdate,
    today: dt.date,
    seen_rows: Mapping[str, int | None],
) -> list[Problem]:
    order = orders.by_id.get(update.order_id)
    state = states.get(update.order_id) or OrderState(update.order_id)
    if state.status == "cancelled":
        return [_problem(update, "id", "work order {id} is cancelled", id=update.order_id)]
    if order is None:
        return [_problem(update, "id", "unknown work order: {id}", id=update.order_id)]
    problems = []
    if update.order_id in seen_rows and update.file:
        problems.append(
            _problem(
                update,
                "id",
                "work order {id} appears twice (also in row {other})",
                id=update.order_id,
                other=seen_rows[update.order_id] or 0,
            )
        )
    status = update.status or state.status
    if status not in SETTABLE:
        return [
            *problems,
            _problem(
                update,
                "status",
                "not a status: {value} (use planned, in_progress, done or failed)",
                value=status,
            ),
        ]
    if status == "failed" and order.kind not in TESTS:
        problems.append(_problem(update, "status", "only a test can fail: {id}", id=order.id))
    if update.date is not None and update.date > today:
        problems.append(_problem(update, "date", "date {date} is in the future", date=update.date))
    day = update.date or today
    if status == "done":
        for pred in order.predecessors:
            before = states.get(pred)
            if before is None or before.status != "done":
                problems.append(
                    _problem(
                        update,
                        "status",
                        "{id} cannot be done before {pred} is done",
                        id=order.id,
                        pred=pred,
                    )
                )
                break
            if before.done_on and before.done_on > day:
                problems.append(
                    _problem(
                        update,
                        "date",
                        "{id} cannot be done on {date}, before {pred} was done on {pred_date}",
                        id=order.id,
                        date=day,
                        pred=pred,
                        pred_date=before.done_on,
                    )
                )
                break
    if order.min_rx_dbm is not None and status == "done":
        rx = update.measured_rx_dbm if update.measured_rx_dbm is not None else state.measured_rx_dbm
        if rx is None:
            problems.append(
                _problem(
                    update,
                    "measured_rx_dbm",
                    "the optical test of {id} needs the measured received power",
                    id=order.id,
                )
            )
        elif rx < order.min_rx_dbm:
            problems.append(
                _problem(
                    update,
                    "measured_rx_dbm",
                    "optical test failed: {rx} dBm is below the required {min} dBm; "
                    "{id} cannot be done",
                    id=order.id,
                    rx=rx,
                    min=order.min_rx_dbm,
                )
            )
    if state.status == "done" and status != "done":
        for nxt in orders.successors.get(order.id, ()):
            after = states.get(nxt)
            if after is not None and after.status == "done":
                problems.append(
                    _problem(
                        update,
                        "status",
                        "cannot reopen {id}: {next} after it is done",
                        id=order.id,
                        next=nxt,
                    )
                )
                break
    return problems
