"""rollout: work orders, status history, generations

Revision ID: rollout_0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "rollout_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("rollout",)
depends_on: str | Sequence[str] | None = "core_0001"


def upgrade() -> None:
    op.create_table(
        "rollout_work_orders",
        sa.Column("id", sa.String(length=160), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.Column("district", sa.Integer(), nullable=False),
        sa.Column("station_code", sa.String(length=64), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=True),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("duration_days", sa.Float(), nullable=False),
        sa.Column("crew", sa.Boolean(), nullable=False),
        sa.Column("min_rx_dbm", sa.Float(), nullable=True),
        sa.Column("predecessors", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("measured_rx_dbm", sa.Float(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollout_work_orders")),
    )
    with op.batch_alter_table("rollout_work_orders", schema=None) as batch_op:
        for column in ("kind", "agency", "district", "station_code", "status"):
            batch_op.create_index(
                batch_op.f(f"ix_rollout_work_orders_{column}"), [column], unique=False
            )
    op.create_table(
        "rollout_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=160), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=100), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollout_history")),
    )
    with op.batch_alter_table("rollout_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rollout_history_order_id"), ["order_id"], unique=False)
    op.create_table(
        "rollout_generations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=True),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("generated_by", sa.String(length=100), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("cancelled", sa.Integer(), nullable=False),
        sa.Column("kept", sa.Integer(), nullable=False),
        sa.Column("reactivated", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollout_generations")),
    )


def downgrade() -> None:
    op.drop_table("rollout_generations")
    with op.batch_alter_table("rollout_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rollout_history_order_id"))
    op.drop_table("rollout_history")
    with op.batch_alter_table("rollout_work_orders", schema=None) as batch_op:
        for column in ("status", "station_code", "district", "agency", "kind"):
            batch_op.drop_index(batch_op.f(f"ix_rollout_work_orders_{column}"))
    op.drop_table("rollout_work_orders")
