"""tlog: the check-in transparency log's entries and signed checkpoints

Revision ID: tlog_0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "tlog_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("tlog",)
depends_on: str | Sequence[str] | None = "link_0004"


def upgrade() -> None:
    op.create_table(
        "tlog_entries",
        sa.Column("idx", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("entry", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "tlog_checkpoints",
        sa.Column("size", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("cosigned", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("tlog_checkpoints")
    op.drop_table("tlog_entries")
