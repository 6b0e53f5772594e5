"""A tamper-evident audit of the ledger: one hash-chained digest per committed batch.

The ledger's writer adds, in the same transaction as the check-ins it commits, one row to
``ledger_audit``: the range of check-in and conflict ids the batch wrote, the SHA-256 digest of
those rows (id, voter hash, station, device, time) and ``chain = SHA-256(previous chain +
digest)``. :func:`verify_audit` recomputes everything: a ledger row edited, deleted or slipped in
outside the writer, or an audit row removed or changed, shows up as a problem. It costs one small
insert per batch, not per check-in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pollnet.store.schema.link import checkin_conflicts, checkins, ledger_audit

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditReport:
    """What :func:`verify_audit` found: batches and rows checked, and every problem."""

    batches: int
    checkins: int
    conflicts: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def row_line(kind: str, row: Mapping[Any, Any]) -> bytes:
    """The canonical bytes of one ledger row (``kind`` is ``checkin`` or ``conflict``)."""
    at = row["recorded_at"]
    if at.tzinfo is None:  # SQLite hands back naive UTC
        at = at.replace(tzinfo=dt.UTC)
    fields = (kind, row["id"], row["voter_hash"], row["station"], row["device"])
    return "|".join(map(str, (*fields, at.astimezone(dt.UTC).isoformat()))).encode()


def digest(lines: Iterable[bytes]) -> str:
    """SHA-256 (hex) of the lines of a batch, in order."""
    h = hashlib.sha256()
    for line in lines:
        h.update(line)
        h.update(b"\n")
    return h.hexdigest()


def chain_next(previous: str, batch_digest: str) -> str:
    """The chain value after a batch: SHA-256 of the previous chain and the batch's digest."""
    return hashlib.sha256((previous + batch_digest).encode("ascii")).hexdigest()


def verify_audit(engine: Engine) -> AuditReport:
    """Recompute every batch digest and the chain; report what does not match."""
    problems: list[str] = []
    covered_checkins = covered_conflicts = batches = 0
    previous = GENESIS
    with engine.connect() as conn:
        for audit in conn.execute(sa.select(ledger_audit).order_by(ledger_audit.c.id)):
            batches += 1
            if audit.id != batches:
                problems.append(f"audit row {batches} is missing (found {audit.id})")
            lines = [
                row_line("checkin", r._mapping)
                for r in conn.execute(
                    sa.select(checkins)
                    .where(checkins.c.id.between(audit.first_checkin, audit.last_checkin))
                    .order_by(checkins.c.id)
                )
            ]
            lines += [
                row_line("conflict", r._mapping)
                for r in conn.execute(
                    sa.select(checkin_conflicts)
                    .where(
                        checkin_conflicts.c.id.between(audit.first_conflict, audit.last_conflict)
                    )
                    .order_by(checkin_conflicts.c.id)
                )
            ]
            covered_checkins += max(0, audit.last_checkin - audit.first_checkin + 1)
            covered_conflicts += max(0, audit.last_conflict - audit.first_conflict + 1)
            if digest(lines) != audit.digest:
                problems.append(f"batch {audit.id}: the ledger rows do not match their digest")
            if chain_next(previous, audit.digest) != audit.chain:
                problems.append(f"batch {audit.id}: the chain is broken")
            previous = audit.chain
        total_checkins = conn.scalar(sa.select(sa.func.count()).select_from(checkins)) or 0
        total_conflicts = (
            conn.scalar(sa.select(sa.func.count()).select_from(checkin_conflicts)) or 0
        )
    if total_checkins != covered_checkins:
        problems.append(
            f"{total_checkins} check-ins in the ledger, {covered_checkins} covered by the audit"
        )
    if total_conflicts != covered_conflicts:
        problems.append(
            f"{total_conflicts} conflicts in the ledger, {covered_conflicts} covered by the audit"
        )
    return AuditReport(batches, covered_checkins, covered_conflicts, tuple(problems))
