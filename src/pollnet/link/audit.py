"""A tamper-evident audit of the ledger: one hash-chained digest per committed batch.

The ledger's writer adds, in the same transaction as the check-ins it commits, one row to
``ledger_audit``: the range of check-in and conflict ids the batch wrote, the SHA-256 digest of
those rows and ``chain = SHA-256(previous chain + digest)``. A digest of format 2 (every batch
written since migration ``link_0004``) covers every column of every ledger row, and the batch's
own audit row (its id, time and id ranges); format 1 covered id, voter hash, station, device and
time only, and is still verified as such. :func:`verify_audit` recomputes everything: a ledger
row edited, deleted or slipped in outside the writer, or an audit row removed or changed, shows
up as a problem.

A chain alone cannot show that its last batches were cut off (with their ledger rows): whoever
can write the database can also shorten the chain. The chain's head is therefore anchored
outside the database, as a :class:`~pollnet.link.anchor.Checkpoint` (``size`` batches, ``head``
their chain value) signed by the service (see :mod:`pollnet.link.anchor`); a transparency log's
signed checkpoints are the same shape and can be passed in the same way. It costs one small
insert per batch, not per check-in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pollnet.errors import Problem
from pollnet.store.schema.link import checkin_conflicts, checkins, ledger_audit

GENESIS = "0" * 64
FORMAT = 2
"""The digest format the writer uses now (see :func:`row_line`)."""

CHECKIN_COLUMNS = tuple(c.name for c in checkins.columns)
CONFLICT_COLUMNS = tuple(c.name for c in checkin_conflicts.columns)
AUDIT_COLUMNS = (
    "id",
    "recorded_at",
    "first_checkin",
    "last_checkin",
    "first_conflict",
    "last_conflict",
)


@dataclass(frozen=True)
class Checkpoint:
    """A claim about the chain from outside the database: after ``size`` batches it is ``head``.

    ``origin`` names who made the claim (the service's signed head file, or a transparency log).
    """

    origin: str
    size: int
    head: str


@dataclass(frozen=True)
class AuditReport:
    """What :func:`verify_audit` found: batches and rows checked, and every problem."""

    batches: int
    checkins: int
    conflicts: int
    problems: tuple[Problem, ...]
    anchored: int = 0
    """The largest batch count a checkpoint vouched for (0: none was given)."""

    @property
    def ok(self) -> bool:
        return not self.problems


def row_line(kind: str, row: Mapping[Any, Any], fmt: int = FORMAT) -> bytes:
    """The canonical bytes of one ledger row (``kind`` is ``checkin`` or ``conflict``).

    Format 2 is a JSON array of the kind and every column of the row in table order (times as
    UTC ISO 8601); format 1 joined id, voter hash, station, device and time with ``|``.
    """
    if fmt == 1:
        fields = (kind, row["id"], row["voter_hash"], row["station"], row["device"])
        return "|".join(map(str, (*fields, _utc(row["recorded_at"])))).encode()
    columns = CHECKIN_COLUMNS if kind == "checkin" else CONFLICT_COLUMNS
    return _canonical([kind, *(row[c] for c in columns)])


def batch_line(audit_row: Mapping[Any, Any]) -> bytes:
    """The canonical bytes of a batch's own audit row (format 2 digests start with it)."""
    return _canonical(["batch", *(audit_row[c] for c in AUDIT_COLUMNS)])


def _canonical(values: Sequence[Any]) -> bytes:
    out = [_utc(v) if isinstance(v, dt.datetime) else v for v in values]
    return json.dumps(out, ensure_ascii=True, separators=(",", ":"), allow_nan=True).encode()


def _utc(at: dt.datetime) -> str:
    if at.tzinfo is None:  # SQLite hands back naive UTC
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC).isoformat()


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


def verify_audit(engine: Engine, checkpoints: Sequence[Checkpoint] = ()) -> AuditReport:
    """Recompute every batch digest and the chain; report what does not match.

    Each of ``checkpoints`` must name a chain value the ledger really had: a checkpoint beyond
    the last batch means batches were removed, one that differs means the chain was rewritten.
    """
    problems: list[Problem] = []
    covered_checkins = covered_conflicts = batches = 0
    previous = GENESIS
    heads = {0: GENESIS}
    newest_format = 1
    with engine.connect() as conn:
        for audit in conn.execute(sa.select(ledger_audit).order_by(ledger_audit.c.id)):
            batches += 1
            if audit.id != batches:
                problems.append(
                    Problem(
                        "audit row {number} is missing (found {found})",
                        {"number": batches, "found": audit.id},
                    )
                )
            fmt = audit.format
            if fmt not in (1, FORMAT) or fmt < newest_format:
                problems.append(
                    Problem("batch {batch}: unknown audit format {format}", _at(audit, fmt))
                )
            newest_format = max(newest_format, fmt)
            lines = [batch_line(audit._mapping)] if fmt >= 2 else []
            lines += [
                row_line("checkin", r._mapping, fmt)
                for r in conn.execute(
                    sa.select(checkins)
                    .where(checkins.c.id.between(audit.first_checkin, audit.last_checkin))
                    .order_by(checkins.c.id)
                )
            ]
            lines += [
                row_line("conflict", r._mapping, fmt)
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
                problems.append(
                    Problem("batch {batch}: the ledger rows do not match their digest", _at(audit))
                )
            if chain_next(previous, audit.digest) != audit.chain:
                problems.append(Problem("batch {batch}: the chain is broken", _at(audit)))
            previous = audit.chain
            heads[batches] = audit.chain
        total_checkins = conn.scalar(sa.select(sa.func.count()).select_from(checkins)) or 0
        total_conflicts = (
            conn.scalar(sa.select(sa.func.count()).select_from(checkin_conflicts)) or 0
        )
    if total_checkins != covered_checkins:
        problems.append(
            Problem(
                "{count} check-ins in the ledger, {covered} covered by the audit",
                {"count": total_checkins, "covered": covered_checkins},
            )
        )
    if total_conflicts != covered_conflicts:
        problems.append(
            Problem(
                "{count} conflicts in the ledger, {covered} covered by the audit",
                {"count": total_conflicts, "covered": covered_conflicts},
            )
        )
    for checkpoint in checkpoints:
        problems.extend(_check(checkpoint, heads, batches))
    anchored = max((c.size for c in checkpoints), default=0)
    return AuditReport(
        batches, covered_checkins, covered_conflicts, tuple(problems), min(anchored, batches)
    )


def _check(checkpoint: Checkpoint, heads: Mapping[int, str], batches: int) -> list[Problem]:
    where = {"origin": checkpoint.origin, "size": checkpoint.size, "batches": batches}
    if checkpoint.size > batches:
        return [
            Problem(
                "{origin} vouches for {size} batches but the ledger holds {batches}:"
                " its last batches were removed",
                where,
            )
        ]
    if heads.get(checkpoint.size) != checkpoint.head:
        return [
            Problem(
                "{origin} vouches for another chain after {size} batches: the chain was rewritten",
                where,
            )
        ]
    return []


def _at(audit: Any, fmt: int | None = None) -> dict[str, Any]:
    return {"batch": audit.id, "format": fmt}


__all__ = ["FORMAT", "GENESIS", "AuditReport", "Checkpoint", "verify_audit"]
