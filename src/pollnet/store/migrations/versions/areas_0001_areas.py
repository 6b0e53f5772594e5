"""areas: administrative areas and the areas of stations and exchanges

Revision ID: areas_0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "areas_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("areas",)
depends_on: str | Sequence[str] | None = "core_0001"


def upgrade() -> None:
    op.create_table(
        "areas",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name_fa", sa.String(length=300), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("osm_relation", sa.BigInteger(), nullable=True),
        sa.Column("geometry", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_areas")),
        sa.UniqueConstraint("kind", "code", name=op.f("uq_areas_kind_code")),
    )
    op.create_table(
        "area_links",
        sa.Column("subject", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("area_code", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("subject", "code", "kind", name=op.f("pk_area_links")),
    )
    op.create_index(op.f("ix_area_links_area_code"), "area_links", ["area_code"])


def downgrade() -> None:
    op.drop_index(op.f("ix_area_links_area_code"), table_name="area_links")
    op.drop_table("area_links")
    op.drop_table("areas")
