"""link: check-in ledger, conflicts, idempotency keys, voter roll, heartbeats

Revision ID: link_0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "link_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("link",)
depends_on: str | Sequence[str] | None = "core_0001"


def upgrade() -> None:
    op.create_table(
        "checkins",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("election", sa.String(length=64), nullable=False),
        sa.Column("voter_hash", sa.String(length=64), nullable=False),
        sa.Column("station", sa.String(length=64), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("device_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("provisional_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("card_read", sa.Boolean(), nullable=False),
        sa.Column("fingerprint_score", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkins")),
        sa.UniqueConstraint("election", "voter_hash", name=op.f("uq_checkins_election_voter_hash")),
    )
    op.create_index(op.f("ix_checkins_station"), "checkins", ["station"], unique=False)
    op.create_table(
        "checkin_conflicts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("election", sa.String(length=64), nullable=False),
        sa.Column("voter_hash", sa.String(length=64), nullable=False),
        sa.Column("first_checkin_id", sa.Integer(), nullable=False),
        sa.Column("station", sa.String(length=64), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("device_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("provisional_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("card_read", sa.Boolean(), nullable=False),
        sa.Column("fingerprint_score", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin_conflicts")),
    )
    op.create_index(
        op.f("ix_checkin_conflicts_voter_hash"), "checkin_conflicts", ["voter_hash"], unique=False
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", "device", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "voter_roll",
        sa.Column("election", sa.String(length=64), nullable=False),
        sa.Column("voter_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("election", "voter_hash", name=op.f("pk_voter_roll")),
    )
    op.create_table(
        "device_states",
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("station", sa.String(length=64), nullable=False),
        sa.Column("link", sa.String(length=8), nullable=False),
        sa.Column("queue_depth", sa.Integer(), nullable=False),
        sa.Column("clock_skew_s", sa.Float(), nullable=False),
        sa.Column("software_version", sa.String(length=64), nullable=False),
        sa.Column("battery", sa.Integer(), nullable=True),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("device", name=op.f("pk_device_states")),
    )
    op.create_index(op.f("ix_device_states_station"), "device_states", ["station"], unique=False)
    op.create_table(
        "heartbeats",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("station", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("link", sa.String(length=8), nullable=False),
        sa.Column("queue_depth", sa.Integer(), nullable=False),
        sa.Column("clock_skew_s", sa.Float(), nullable=False),
        sa.Column("software_version", sa.String(length=64), nullable=False),
        sa.Column("battery", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_heartbeats")),
    )
    op.create_index(op.f("ix_heartbeats_device"), "heartbeats", ["device"], unique=False)
    op.create_table(
        "station_states",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("station", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station_states")),
    )
    op.create_index(op.f("ix_station_states_station"), "station_states", ["station"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_station_states_station"), table_name="station_states")
    op.drop_table("station_states")
    op.drop_index(op.f("ix_heartbeats_device"), table_name="heartbeats")
    op.drop_table("heartbeats")
    op.drop_index(op.f("ix_device_states_station"), table_name="device_states")
    op.drop_table("device_states")
    op.drop_table("voter_roll")
    op.drop_table("idempotency_keys")
    op.drop_index(op.f("ix_checkin_conflicts_voter_hash"), table_name="checkin_conflicts")
    op.drop_table("checkin_conflicts")
    op.drop_index(op.f("ix_checkins_station"), table_name="checkins")
    op.drop_table("checkins")
