"""link: a hash-chained audit of the ledger's batches

Revision ID: link_0002
Revises: link_0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "link_0002"
down_revision: str | None = "link_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_audit",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_checkin", sa.Integer(), nullable=False),
        sa.Column("last_checkin", sa.Integer(), nullable=False),
        sa.Column("first_conflict", sa.Integer(), nullable=False),
        sa.Column("last_conflict", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("chain", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_audit")),
    )


def downgrade() -> None:
    op.drop_table("ledger_audit")
