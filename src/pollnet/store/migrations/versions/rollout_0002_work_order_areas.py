"""rollout: the county, municipality and education district of every work order

Revision ID: rollout_0002
Revises: rollout_0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "rollout_0002"
down_revision: str | None = "rollout_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("county", "municipality", "education_district")


def upgrade() -> None:
    with op.batch_alter_table("rollout_work_orders") as batch:
        for name in _COLUMNS:
            batch.add_column(
                sa.Column(name, sa.String(length=64), nullable=False, server_default="")
            )
            batch.create_index(op.f(f"ix_rollout_work_orders_{name}"), [name])


def downgrade() -> None:
    with op.batch_alter_table("rollout_work_orders") as batch:
        for name in _COLUMNS:
            batch.drop_index(op.f(f"ix_rollout_work_orders_{name}"))
            batch.drop_column(name)
