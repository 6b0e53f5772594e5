"""plan tables

Revision ID: plan_0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "plan_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("plan",)
depends_on: str | Sequence[str] | None = "core_0001"

_CHILDREN: dict[str, list[sa.Column[object]]] = {
    "plan_stations": [
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("exchange", sa.String(length=64), nullable=True),
    ],
    "plan_trenches": [
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("district", sa.Integer(), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=False),
    ],
    "plan_cable_runs": [
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("exchange", sa.String(length=64), nullable=False),
        sa.Column("cores", sa.Integer(), nullable=False),
    ],
    "plan_splices": [
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
    ],
    "plan_exchanges": [sa.Column("code", sa.String(length=64), nullable=False)],
    "plan_bom": [sa.Column("line", sa.Integer(), autoincrement=False, nullable=False)],
}
_KEYS = {
    "plan_stations": "code",
    "plan_trenches": "id",
    "plan_cable_runs": "id",
    "plan_splices": "id",
    "plan_exchanges": "code",
    "plan_bom": "line",
}


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("inputs_digest", sa.String(length=64), nullable=False),
        sa.Column("cost_model", sa.Text(), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("totals", sa.Text(), nullable=False),
        sa.Column("phase_seconds", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
    )
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plans_created_at"), ["created_at"], unique=False)
    for name, columns in _CHILDREN.items():
        op.create_table(
            name,
            sa.Column("plan_id", sa.String(length=40), nullable=False),
            *columns,
            sa.Column("data", sa.Text(), nullable=False),
            sa.ForeignKeyConstraint(
                ["plan_id"], ["plans.id"], name=op.f(f"fk_{name}_plan_id_plans"), ondelete="CASCADE"
            ),
            sa.PrimaryKeyConstraint("plan_id", _KEYS[name], name=op.f(f"pk_{name}")),
        )


def downgrade() -> None:
    for name in reversed(list(_CHILDREN)):
        op.drop_table(name)
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plans_created_at"))
    op.drop_table("plans")
