"""Tables of the operations web: its accounts and the audit of every sign-in and change."""

from sqlalchemy import Boolean, Column, DateTime, Integer, String, Table, Text

from pollnet.store.schema.base import metadata

users = Table(
    "web_users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(32), nullable=False),
    Column("scope", String(64), nullable=False, default=""),  # a municipality / education district
    Column("password_hash", Text, nullable=False),  # Argon2id, PHC string
    Column("totp_secret", String(64), nullable=True),  # base32; None: no second factor
    Column("active", Boolean, nullable=False, default=True),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

audit = Table(
    "web_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("who", String(64), nullable=False),  # '' when nobody is signed in
    Column("action", String(64), nullable=False),
    Column("target", String(300), nullable=False, default=""),
    Column("outcome", String(16), nullable=False),  # ok | denied | failed
    Column("address", String(64), nullable=False, default=""),  # the client's IP, 'cli'
    Column("detail", Text, nullable=False, default=""),
)
