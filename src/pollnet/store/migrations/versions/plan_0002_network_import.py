"""plan: an exchange's operator and county; an existing fiber line's kind and spare capacity

Revision ID: plan_0002
Revises: plan_0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "plan_0002"
down_revision: str | None = "plan_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("exchanges") as batch:
        batch.add_column(
            sa.Column("operator", sa.String(length=64), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("county", sa.String(length=100), nullable=True))
    with op.batch_alter_table("existing_fiber") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="duct")
        )
        batch.add_column(sa.Column("spare_fibres", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("free_ducts", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("existing_fiber") as batch:
        batch.drop_column("free_ducts")
        batch.drop_column("spare_fibres")
        batch.drop_column("kind")
    with op.batch_alter_table("exchanges") as batch:
        batch.drop_column("county")
        batch.drop_column("operator")
