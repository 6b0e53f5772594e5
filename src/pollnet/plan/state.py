"""The design state kept with a stored plan: what ``plan --move`` and ``sites review`` start
from, instead of designing the registry again.

Designing the city again takes about 16 s, and since the Steiner search stops at a clock cap
on a loaded machine, a second design may differ from the plan the office stored. So
``pollnet plan`` keeps, beside each plan, what its design decided: each station's street node
and exchange, each exchange's tree (its street edges), the flags raised, and the critical
stations' second routes. The prices, the trees' layouts and the optical budgets are computed
again when the state is read (:func:`pollnet.plan.design.restore_state`), which gives the
stored plan back exactly.

The arrays are a numpy ``.npz`` read with ``allow_pickle=False`` and the rest is JSON: the
database is shared by several agencies, and unpickling would run whatever someone wrote there.
A state is used only when its :func:`state_digest` matches the inputs at hand: the plan's
inputs digest (the street graph, registry stations, exchanges and existing fibre, the cost
model, the ``[plan]`` parameters) and the area's bounding box.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from pollnet.plan.costs import CostModel
from pollnet.plan.design import DesignInputs, DesignState, restore_state
from pollnet.plan.model import Flag
from pollnet.plan.params import PlanParameters
from pollnet.plan.redundancy import SecondRoute
from pollnet.settings import BoundingBox
from pollnet.store.schema import plan as t

FORMAT = 1
"""The layout of a stored state; a state of another format is not used (its digest differs)."""


def state_digest(inputs_digest: str, bbox: BoundingBox | None) -> str:
    """What a stored state is valid for: the plan's inputs digest and the bounding box."""
    h = hashlib.sha256(f"pollnet design state {FORMAT}\n{inputs_digest}\n".encode())
    box = dataclasses.asdict(bbox) if bbox is not None else None
    h.update(json.dumps(box, sort_keys=True).encode())
    return h.hexdigest()


def _flag(flag: Flag) -> list[Any]:
    return [flag.code, flag.message, dict(flag.params)]


def _unflag(value: list[Any]) -> Flag:
    return Flag(str(value[0]), str(value[1]), dict(value[2]))


def save_state(conn: Connection, plan_id: str, state: DesignState, digest: str) -> None:
    """Store ``state`` beside the plan ``plan_id`` (in the caller's transaction)."""
    sizes = np.array([e.size for e in state.edge_sets], dtype=np.int64)
    edges = [np.asarray(e, dtype=np.int64) for e in state.edge_sets]
    buffer = io.BytesIO()
    np.savez(
        buffer,
        node=state.node.astype(np.int64),
        owner=state.owner.astype(np.int64),
        capacity=np.asarray(state.capacity, dtype=np.int64),
        tree_sizes=sizes,
        tree_edges=np.concatenate(edges) if edges else np.zeros(0, dtype=np.int64),
    )
    data = {
        "flags": [[s, [_flag(f) for f in flags]] for s, flags in enumerate(state.flags) if flags],
        "routes": [
            [s, list(r.edges), r.exchange, r.length_m, list(r.new_edges)]
            for s, r in sorted(state.routes.items())
        ],
        "route_flags": [[s, _flag(f)] for s, f in sorted(state.route_flags.items())],
    }
    conn.execute(
        t.plan_states.insert(),
        {
            "plan_id": plan_id,
            "digest": digest,
            "arrays": buffer.getvalue(),
            "data": json.dumps(data, ensure_ascii=False, separators=(",", ":")),
        },
    )


def load_state(
    engine: Engine,
    plan_id: str,
    inputs: DesignInputs,
    costs: CostModel,
    params: PlanParameters,
    digest: str,
) -> DesignState | None:
    """The design state stored with plan ``plan_id`` on ``inputs``, or None when there is
    none or it was made from other inputs (``digest``: :func:`state_digest` of the inputs)."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(t.plan_states).where(t.plan_states.c.plan_id == plan_id)
        ).first()
    if row is None or row.digest != digest:
        return None
    with np.load(io.BytesIO(row.arrays), allow_pickle=False) as arrays:
        node, owner = arrays["node"], arrays["owner"]
        capacity, sizes, edges = arrays["capacity"], arrays["tree_sizes"], arrays["tree_edges"]
    if node.size != len(inputs.stations) or sizes.size != len(inputs.exchanges):
        return None
    data = json.loads(row.data)
    flags: list[list[Flag]] = [[] for _ in inputs.stations]
    for s, found in data["flags"]:
        flags[int(s)] = [_unflag(f) for f in found]
    routes = {
        int(s): SecondRoute(tuple(e), int(x), float(m), tuple(new))
        for s, e, x, m, new in data["routes"]
    }
    return restore_state(
        inputs,
        costs,
        params,
        node=node,
        owner=owner,
        capacity=capacity,
        edge_sets=np.split(edges, np.cumsum(sizes)[:-1]) if sizes.size else [],
        flags=flags,
        routes=routes,
        route_flags={int(s): _unflag(f) for s, f in data["route_flags"]},
    )
