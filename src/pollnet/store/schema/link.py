"""Tables of the election-day link: the check-in ledger, conflicts, idempotency, heartbeats.

No table holds a raw national code: ``voter_hash`` is the keyed HMAC-SHA256 (hex) that stands in
for it (see :mod:`pollnet.link.ledger`). Times are UTC.
"""

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
)

from pollnet.store.schema.base import metadata

checkins = Table(
    "checkins",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("election", String(64), nullable=False),
    Column("voter_hash", String(64), nullable=False),
    Column("station", String(64), nullable=False, index=True),
    Column("device", String(64), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("device_time", DateTime(timezone=True), nullable=False),
    Column("provisional_at", DateTime(timezone=True), nullable=True),
    Column("card_read", Boolean, nullable=False),
    Column("fingerprint_score", Float, nullable=False),
    # The source of truth for "exactly once per election".
    UniqueConstraint("election", "voter_hash"),
)

checkin_conflicts = Table(
    "checkin_conflicts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("election", String(64), nullable=False),
    Column("voter_hash", String(64), nullable=False, index=True),
    Column("first_checkin_id", Integer, nullable=False),
    Column("station", String(64), nullable=False),
    Column("device", String(64), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("device_time", DateTime(timezone=True), nullable=False),
    Column("provisional_at", DateTime(timezone=True), nullable=False),
    Column("card_read", Boolean, nullable=False),
    Column("fingerprint_score", Float, nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    # Key first: the writer looks answers up by key (then matches the device).
    Column("key", String(64), primary_key=True),
    Column("device", String(64), primary_key=True),
    Column("status_code", Integer, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # What the key's first request said (see pollnet.link.checkin.request_digest): the same key
    # with another check-in is refused, never answered with the first one's answer.
    Column("request_digest", String(64), nullable=True),
)

voter_roll = Table(
    "voter_roll",
    metadata,
    Column("election", String(64), primary_key=True),
    Column("voter_hash", String(64), primary_key=True),
)

device_states = Table(
    "device_states",
    metadata,
    Column("device", String(64), primary_key=True),
    Column("station", String(64), nullable=False, index=True),
    Column("link", String(8), nullable=False),
    Column("queue_depth", Integer, nullable=False),
    Column("clock_skew_s", Float, nullable=False),
    Column("software_version", String(64), nullable=False),
    Column("battery", Integer, nullable=True),
    Column("last_seen", DateTime(timezone=True), nullable=False),
)

heartbeats = Table(
    "heartbeats",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("device", String(64), nullable=False, index=True),
    Column("station", String(64), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("link", String(8), nullable=False),
    Column("queue_depth", Integer, nullable=False),
    Column("clock_skew_s", Float, nullable=False),
    Column("software_version", String(64), nullable=False),
    Column("battery", Integer, nullable=True),
)

station_states = Table(
    "station_states",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("station", String(64), nullable=False, index=True),
    Column("state", String(16), nullable=False),
    Column("since", DateTime(timezone=True), nullable=False),
)

ledger_audit = Table(
    "ledger_audit",
    metadata,
    # One row per committed batch: the ids it wrote, a digest of those rows, and a hash chain
    # over all digests so far (see pollnet.link.audit).
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("first_checkin", Integer, nullable=False),
    Column("last_checkin", Integer, nullable=False),
    Column("first_conflict", Integer, nullable=False),
    Column("last_conflict", Integer, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("chain", String(64), nullable=False),
    # Which columns the digest covers (pollnet.link.audit.row_line): 1 before link_0004.
    Column("format", Integer, nullable=False, server_default="1"),
)
