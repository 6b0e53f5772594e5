"""link: the audit's digest format (2: every column of every ledger row and the batch's own row)

Revision ID: link_0004
Revises: link_0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "link_0004"
down_revision: str | None = "link_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ledger_audit") as batch:
        batch.add_column(sa.Column("format", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("ledger_audit") as batch:
        batch.drop_column("format")
