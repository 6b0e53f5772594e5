"""link: the digest of the request each idempotency key answered

Revision ID: link_0003
Revises: link_0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "link_0003"
down_revision: str | None = "link_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.add_column(sa.Column("request_digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_column("request_digest")
