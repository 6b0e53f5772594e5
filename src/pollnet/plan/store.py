"""Save a :class:`Plan` in the database and read it back (tables in ``store/schema/plan.py``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pollnet.errors import NotFoundError
from pollnet.plan.model import (
    BomLine,
    CableRun,
    ExchangePlan,
    Flag,
    OpticalBudget,
    Plan,
    PlanTotals,
    RedundantRoute,
    SplicePoint,
    StationPlan,
    TrenchSegment,
)
from pollnet.store.schema import plan as t

if TYPE_CHECKING:
    from pollnet.plan.design import DesignState

_CHUNK = 2000


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _tuples(value: Any) -> Any:
    """JSON lists back into the tuples the frozen dataclasses hold."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def save_plan(engine: Engine, plan: Plan, *, state: tuple[DesignState, str] | None = None) -> str:
    """Store ``plan`` (its id is replaced by a new one) and return the new plan id.

    ``state``: the design state the plan was assembled from and its digest
    (:func:`pollnet.plan.state.state_digest`), kept with the plan for ``plan --move``.
    """
    plan_id = uuid.uuid4().hex
    asdict = dataclasses.asdict
    children: list[tuple[sa.Table, list[dict[str, Any]]]] = [
        (
            t.plan_stations,
            [
                {
                    "code": s.code,
                    "status": s.status,
                    "exchange": s.exchange,
                    "data": _dump(asdict(s)),
                }
                for s in plan.stations
            ],
        ),
        (
            t.plan_trenches,
            [
                {
                    "id": x.id,
                    "method": x.method,
                    "district": x.district,
                    "length_m": x.length_m,
                    "data": _dump(asdict(x)),
                }
                for x in plan.trenches
            ],
        ),
        (
            t.plan_cable_runs,
            [
                {"id": r.id, "exchange": r.exchange, "cores": r.cores, "data": _dump(asdict(r))}
                for r in plan.cable_runs
            ],
        ),
        (
            t.plan_splices,
            [{"id": s.id, "kind": s.kind, "data": _dump(asdict(s))} for s in plan.splices],
        ),
        (
            t.plan_exchanges,
            [{"code": x.code, "data": _dump(asdict(x))} for x in plan.exchanges],
        ),
        (
            t.plan_bom,
            [{"line": i, "data": _dump(asdict(b))} for i, b in enumerate(plan.bom)],
        ),
    ]
    with engine.begin() as conn:
        conn.execute(
            t.plans.insert(),
            {
                "id": plan_id,
                "created_at": plan.created_at,
                "inputs_digest": plan.inputs_digest,
                "cost_model": _dump(plan.cost_model),
                "parameters": _dump(plan.parameters),
                "totals": _dump(asdict(plan.totals)),
                "phase_seconds": _dump(dict(plan.phase_seconds)),
            },
        )
        for table, rows in children:
            for start in range(0, len(rows), _CHUNK):
                conn.execute(
                    table.insert(),
                    [{"plan_id": plan_id, **r} for r in rows[start : start + _CHUNK]],
                )
        if state is not None:
            from pollnet.plan.state import save_state

            save_state(conn, plan_id, *state)
    return plan_id


def latest_plan_id(engine: Engine) -> str | None:
    """The id of the most recently created plan, or None when there is none."""
    with engine.connect() as conn:
        value = conn.scalar(
            sa.select(t.plans.c.id).order_by(t.plans.c.created_at.desc(), t.plans.c.id).limit(1)
        )
    return None if value is None else str(value)


def plan_parameters(engine: Engine, plan_id: str) -> dict[str, Any]:
    """The stored design settings of one plan (without loading the plan), empty when unknown."""
    with engine.connect() as conn:
        value = conn.scalar(sa.select(t.plans.c.parameters).where(t.plans.c.id == plan_id))
    return dict(json.loads(value)) if value else {}


def load_plan(engine: Engine, plan_id: str) -> Plan:
    """The plan stored under ``plan_id``; :class:`NotFoundError` when there is none."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(t.plans).where(t.plans.c.id == plan_id)).mappings().first()
        if row is None:
            raise NotFoundError.of("no plan with id {plan_id}", plan_id=plan_id)

        def records(table: sa.Table, key: str) -> list[dict[str, Any]]:
            rows = conn.execute(
                sa.select(table.c.data).where(table.c.plan_id == plan_id).order_by(table.c[key])
            )
            return [json.loads(r[0]) for r in rows]

        stations = tuple(_station(d) for d in records(t.plan_stations, "code"))
        trenches = tuple(TrenchSegment(**_fix(d)) for d in records(t.plan_trenches, "id"))
        runs = tuple(CableRun(**_fix(d)) for d in records(t.plan_cable_runs, "id"))
        splices = tuple(SplicePoint(**_fix(d)) for d in records(t.plan_splices, "id"))
        exchanges = tuple(ExchangePlan(**d) for d in records(t.plan_exchanges, "code"))
        bom = tuple(_bom_line(d) for d in records(t.plan_bom, "line"))
    created = row["created_at"]
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    return Plan(
        id=plan_id,
        created_at=created,
        inputs_digest=row["inputs_digest"],
        cost_model=json.loads(row["cost_model"]),
        stations=stations,
        trenches=trenches,
        cable_runs=runs,
        splices=splices,
        bom=bom,
        totals=PlanTotals(**json.loads(row["totals"])),
        phase_seconds=json.loads(row["phase_seconds"]),
        exchanges=exchanges,
        parameters=json.loads(row["parameters"]),
    )


_LEGACY_BOM_ITEMS = (
    ("Fiber cable, {cores} cores", "Fiber cable, ", " cores", "cores"),
    ("Splitter 1:{split}", "Splitter 1:", "", "split"),
)
"""Items once stored with their number in the text: msgid, text before and after, param."""


def _bom_line(d: Mapping[str, Any]) -> BomLine:
    """A stored bill-of-materials line. Lines stored before ``params`` existed carry their
    number in the item text; it becomes the msgid and its param again."""
    if "params" not in d:
        item = str(d["item"])
        for msgid, head, tail, name in _LEGACY_BOM_ITEMS:
            if item.startswith(head) and item.endswith(tail):
                number = item[len(head) : len(item) - len(tail)]
                if number.isdigit():
                    return BomLine(**{**d, "item": msgid, "params": {name: int(number)}})
    return BomLine(**d)


def _fix(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _tuples(v) for k, v in d.items()}


def _station(d: Mapping[str, Any]) -> StationPlan:
    d = _fix(d)
    d["flags"] = tuple(
        Flag(f[0], f[1], dict(f[2])) if isinstance(f, tuple) else Flag(**f) for f in d["flags"]
    )
    if d["budget"] is not None:
        d["budget"] = OpticalBudget(**d["budget"])
    if d["redundant"] is not None:
        d["redundant"] = RedundantRoute(**_fix(d["redundant"]))
    return StationPlan(**d)
