"""The audit of the operations web: every sign-in and every change, who, when, what, from where."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pollnet.store.schema.users import audit

OUTCOMES = ("ok", "denied", "failed")


@dataclass(frozen=True)
class AuditEntry:
    """One audited event. ``who`` is '' when nobody was signed in; ``address`` is the client's
    IP address (``cli`` for the command line); ``outcome`` one of :data:`OUTCOMES`."""

    at: dt.datetime
    who: str
    action: str
    target: str
    outcome: str
    address: str
    detail: str = ""


def record(engine: Engine, entry: AuditEntry) -> None:
    """Append ``entry`` to the audit table."""
    values = entry.__dict__ | {"target": entry.target[:300], "detail": entry.detail[:4000]}
    with engine.begin() as conn:
        conn.execute(audit.insert().values(**values))


def read_audit(engine: Engine, limit: int = 200, who: str | None = None) -> list[AuditEntry]:
    """The latest ``limit`` audit entries (of ``who``, when given), newest first."""
    query = sa.select(audit).order_by(audit.c.id.desc()).limit(limit)
    if who is not None:
        query = query.where(audit.c.who == who)
    with engine.connect() as conn:
        return [
            AuditEntry(_utc(r.at), r.who, r.action, r.target, r.outcome, r.address, r.detail)
            for r in conn.execute(query)
        ]


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
