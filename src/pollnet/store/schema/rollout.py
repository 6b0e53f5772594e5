"""Tables of the rollout: work orders (with their predecessors), status history, generations."""

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    String,
    Table,
    Text,
)

from pollnet.store.schema.base import metadata

work_orders = Table(
    "rollout_work_orders",
    metadata,
    Column("id", String(160), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("plan_id", String(64), nullable=True),
    Column("kind", String(32), nullable=False, index=True),
    Column("agency", String(32), nullable=False, index=True),
    Column("district", Integer, nullable=False, index=True),
    Column("station_code", String(64), nullable=True, index=True),
    Column("subject", String(300), nullable=False),
    Column("method", String(32), nullable=True),
    Column("quantity", Float, nullable=False),
    Column("unit", String(16), nullable=False),
    Column("duration_days", Float, nullable=False),
    Column("crew", Boolean, nullable=False),
    Column("min_rx_dbm", Float, nullable=True),
    Column("predecessors", Text, nullable=False, default=""),  # space-separated ids
    Column("status", String(16), nullable=False, index=True),
    Column("started_on", Date, nullable=True),
    Column("done_on", Date, nullable=True),
    Column("measured_rx_dbm", Float, nullable=True),
    Column("due_on", Date, nullable=True),
    Column("note", Text, nullable=False, default=""),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(100), nullable=False),
    Column("county", String(64), nullable=False, default="", index=True),
    Column("municipality", String(64), nullable=False, default="", index=True),
    Column("education_district", String(64), nullable=False, default="", index=True),
)

history = Table(
    "rollout_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", String(160), nullable=False, index=True),
    Column("field", String(32), nullable=False),
    Column("old_value", Text, nullable=True),
    Column("new_value", Text, nullable=True),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("changed_by", String(100), nullable=False),
    Column("agency", String(32), nullable=True),
    Column("source", String(300), nullable=False),
    Column("note", Text, nullable=False, default=""),
)

generations = Table(
    "rollout_generations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", String(64), nullable=True),
    Column("generated_at", DateTime(timezone=True), nullable=False),
    Column("generated_by", String(100), nullable=False),
    Column("added", Integer, nullable=False),
    Column("cancelled", Integer, nullable=False),
    Column("kept", Integer, nullable=False),
    Column("reactivated", Integer, nullable=False),
)
