"""Tables of the fiber plan: one row per plan, and its stations, trenches, cables, splices, BOM.

Each child row keeps the columns people filter on (status, method, cores, ...) and the whole
record as JSON in ``data`` (a :mod:`pollnet.plan.model` value), so a plan reads back exactly.
"""

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from pollnet.store.schema.base import metadata

plans = Table(
    "plans",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("inputs_digest", String(64), nullable=False),
    Column("cost_model", Text, nullable=False),  # JSON
    Column("parameters", Text, nullable=False),  # JSON
    Column("totals", Text, nullable=False),  # JSON
    Column("phase_seconds", Text, nullable=False),  # JSON
)


def _child(name: str, *columns: Column[object]) -> Table:
    return Table(
        name,
        metadata,
        Column("plan_id", String(40), ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True),
        *columns,
        Column("data", Text, nullable=False),
    )


plan_stations = _child(
    "plan_stations",
    Column("code", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("exchange", String(64), nullable=True),
)
plan_trenches = _child(
    "plan_trenches",
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("method", String(16), nullable=False),
    Column("district", Integer, nullable=False),
    Column("length_m", Float, nullable=False),
)
plan_cable_runs = _child(
    "plan_cable_runs",
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("exchange", String(64), nullable=False),
    Column("cores", Integer, nullable=False),
)
plan_splices = _child(
    "plan_splices",
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
)
plan_exchanges = _child(
    "plan_exchanges",
    Column("code", String(64), primary_key=True),
)
plan_bom = _child(
    "plan_bom",
    Column("line", Integer, primary_key=True, autoincrement=False),
)
plan_states = Table(
    "plan_states",
    metadata,
    Column("plan_id", String(40), ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True),
    Column("digest", String(64), nullable=False),  # what the plan was made from, see state.py
    Column("arrays", LargeBinary, nullable=False),  # numpy .npz, read without pickle
    Column("data", Text, nullable=False),  # JSON: flags and second routes
)
"""The design state behind a plan (:mod:`pollnet.plan.state`): what ``plan --move`` and
``sites review`` start from, instead of designing the registry again."""
