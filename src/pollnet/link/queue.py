"""The device's durable check-in queue: every check-in is on disk before it is sent.

A device writes each check-in it takes into a local SQLite file (WAL, ``synchronous=FULL``) and
only then sends it; the service's answer is stored on the same row. Check-ins accepted offline
(provisional) wait for a link and are replayed in the order they were taken, with their
original idempotency keys. A check-in whose request may have reached the service without its
answer reaching the device (a link cut mid-request, a timeout, a device killed mid-request) is
``unknown``: never closed as refused, never silently replayed as a new vote; the client asks
the service what became of it (see :mod:`pollnet.link.client`).

The raw national code is needed only to send a check-in: it is kept while the item is pending
and erased as soon as the service has answered. A keyed local hash (HMAC-SHA256) stands in for
the voter afterwards, for the device's own duplicate check; its key is derived from the device's
private key (:func:`pollnet.link.pki.queue_key`) and is never written to the queue, so the file
alone does not let anyone test national codes against it. :meth:`DurableQueue.close_day` drops
those hashes once the day is over. The file is created readable by its owner only (0600, and
so are SQLite's ``-wal`` and ``-shm`` files, which take its mode), and SQLite's
``secure_delete`` overwrites erased codes and hashes instead of leaving them in free pages.
The queue is a device-local file, not part of the service's store: it has its own tiny schema.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PENDING = "pending"
ANSWERED = "answered"
CLOSED = "closed"  # never sent: refused on the device (link down, local duplicate)
UNKNOWN = "unknown"  # may have reached the service, its answer did not come back
WAITING = (PENDING, UNKNOWN)  # what the device still owes an answer for (its queue depth)

# Outcomes for which the voter counts as checked in at this device (local duplicate check).
_COUNTED = ("accepted", "conflict", "duplicate", "provisional")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    voter_hash TEXT,
    payload TEXT,
    taken_at TEXT NOT NULL,
    provisional_at TEXT,
    state TEXT NOT NULL,
    outcome TEXT,
    status_code INTEGER,
    answer TEXT,
    answered_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS items_pending ON items (state, seq);
CREATE INDEX IF NOT EXISTS items_voter ON items (voter_hash);
"""


@dataclass(frozen=True)
class QueuedCheckin:
    """One check-in the device took: its wire body (while pending) and the answer, once known.

    ``outcome`` is ``provisional`` while a check-in accepted offline waits to be replayed, then
    the service's verdict: ``accepted``, ``conflict``, ``duplicate`` or another refusal reason;
    ``link_down`` or ``local_duplicate`` for one refused on the device.
    """

    seq: int
    idempotency_key: str
    voter_hash: str | None
    payload: Mapping[str, Any] | None
    taken_at: dt.datetime
    provisional_at: dt.datetime | None
    state: str
    outcome: str | None
    status_code: int | None
    answer: Mapping[str, Any] | None
    attempts: int

    @property
    def provisional(self) -> bool:
        return self.provisional_at is not None


class DurableQueue:
    """A device's local queue in the SQLite file ``path``; safe to share between threads.

    ``synchronous`` is SQLite's ``PRAGMA synchronous``: ``FULL`` (default) syncs every write to
    disk before :meth:`put` returns, so a check-in survives power loss; ``NORMAL`` survives a
    killed process but not a power cut (the simulator uses it to spare the disk).
    """

    def __init__(self, path: Path, voter_key: bytes, *, synchronous: str = "FULL") -> None:
        if synchronous.upper() not in ("FULL", "NORMAL", "EXTRA"):
            raise ValueError("synchronous must be FULL, NORMAL or EXTRA")
        if len(voter_key) < 32:
            raise ValueError("the voter key must be at least 32 bytes")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _private_file(self.path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA secure_delete=ON")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self._db.execute("PRAGMA busy_timeout=10000")
        with self._lock:
            self._db.executescript(_SCHEMA)
            # A key written by an older pollnet into the file itself: it is what let anyone
            # holding the file test national codes. Gone; hashes made with it no longer match.
            self._db.execute("DELETE FROM meta WHERE name = 'voter_key'")
            # A check-in pending at start was being sent when the device stopped (a check-in
            # accepted offline has its provisional time): it may have been recorded.
            self._db.execute(
                "UPDATE items SET state = ? WHERE state = ? AND provisional_at IS NULL",
                (UNKNOWN, PENDING),
            )
            row = self._db.execute("SELECT count(*) FROM items WHERE state IN (?, ?)", WAITING)
            self._depth = int(row.fetchone()[0])
        for suffix in ("-wal", "-shm"):
            _private_file(self.path.with_name(self.path.name + suffix), create=False)
        self._key = bytes(voter_key)

    def close(self) -> None:
        with self._lock:
            with contextlib.suppress(sqlite3.Error):  # another process may hold the WAL open
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.close()

    def __enter__(self) -> DurableQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def voter_hash(self, national_code: str) -> str:
        """The local keyed hash that stands in for a (normalised) national code on this device."""
        return hmac.new(self._key, national_code.encode(), hashlib.sha256).hexdigest()

    def put(
        self,
        payload: Mapping[str, Any],
        *,
        voter_hash: str | None,
        idempotency_key: str | None = None,
    ) -> QueuedCheckin:
        """Write a new pending check-in (its wire body) and return it; durable on return."""
        key = idempotency_key or str(uuid.uuid4())
        body = {**payload, "idempotency_key": key}
        now = _now()
        with self._lock:  # one statement: its own transaction (autocommit)
            cursor = self._db.execute(
                "INSERT INTO items (idempotency_key, voter_hash, payload, taken_at, state)"
                " VALUES (?, ?, ?, ?, ?)",
                (key, voter_hash, json.dumps(body), now.isoformat(), PENDING),
            )
            seq = int(cursor.lastrowid or 0)
            self._depth += 1
        return QueuedCheckin(seq, key, voter_hash, body, now, None, PENDING, None, None, None, 0)

    def mark_provisional(self, key: str, at: dt.datetime) -> QueuedCheckin:
        """Mark a pending check-in as accepted offline at ``at`` (sent with ``provisional_at``)."""
        with self._transaction() as db:
            row = _one(db, key)
            body = json.loads(row["payload"])
            body["provisional_at"] = at.isoformat()
            db.execute(
                "UPDATE items SET payload = ?, provisional_at = ?, outcome = 'provisional'"
                " WHERE idempotency_key = ? AND state = ?",
                (json.dumps(body), at.isoformat(), key, PENDING),
            )
        return self.get(key)

    def attempted(self, key: str) -> None:
        """Count one more sending attempt of ``key`` that got no answer."""
        with self._lock:
            self._db.execute(
                "UPDATE items SET attempts = attempts + 1 WHERE idempotency_key = ?", (key,)
            )

    def mark_unknown(self, key: str) -> QueuedCheckin:
        """Mark a pending check-in whose request may have reached the service, unanswered."""
        with self._lock:
            self._db.execute(
                "UPDATE items SET state = ?, attempts = attempts + 1"
                " WHERE idempotency_key = ? AND state = ?",
                (UNKNOWN, key, PENDING),
            )
        return self.get(key)

    def admit_unknown(self, key: str, at: dt.datetime) -> QueuedCheckin:
        """Note that the voter of an unknown check-in was admitted provisionally at ``at``.

        Its request stays as it was sent (same key, same body): only the service can say
        whether it was recorded. If it was not, :meth:`requeue` turns it into a provisional
        check-in of its own.
        """
        with self._lock:
            self._db.execute(
                "UPDATE items SET provisional_at = ?, outcome = 'provisional'"
                " WHERE idempotency_key = ? AND state = ?",
                (at.isoformat(), key, UNKNOWN),
            )
        return self.get(key)

    def requeue(self, key: str) -> QueuedCheckin:
        """Turn an unknown check-in admitted provisionally, which the service did not record
        (or refused), into a pending provisional check-in under a new idempotency key."""
        new_key = str(uuid.uuid4())
        with self._transaction() as db:
            row = _one(db, key)
            body = json.loads(row["payload"])
            body["idempotency_key"] = new_key
            body["provisional_at"] = row["provisional_at"]
            db.execute(
                "UPDATE items SET idempotency_key = ?, payload = ?, state = ?"
                " WHERE idempotency_key = ? AND state = ?",
                (new_key, json.dumps(body), PENDING, key, UNKNOWN),
            )
        return self.get(new_key)

    def answer(self, key: str, status_code: int, body: Mapping[str, Any]) -> QueuedCheckin:
        """Store the service's answer to ``key`` and erase the raw national code of the item."""
        outcome = outcome_of(status_code, body)
        with self._lock:  # one statement: its own transaction (autocommit)
            cursor = self._db.execute(
                "UPDATE items SET state = ?, outcome = ?, status_code = ?, answer = ?,"
                " answered_at = ?, payload = NULL, attempts = attempts + 1"
                " WHERE idempotency_key = ? AND state IN (?, ?)",
                (
                    ANSWERED,
                    outcome,
                    status_code,
                    json.dumps(body),
                    _now().isoformat(),
                    key,
                    *WAITING,
                ),
            )
            self._depth -= cursor.rowcount
        return self.get(key)

    def close_item(self, key: str, outcome: str) -> QueuedCheckin:
        """Close a check-in that will never be sent (``link_down``, ``local_duplicate``, or
        ``not_recorded``: an unknown one the service says it never recorded, and never will)."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE items SET state = ?, outcome = ?, answered_at = ?, payload = NULL"
                " WHERE idempotency_key = ? AND state IN (?, ?)",
                (CLOSED, outcome, _now().isoformat(), key, *WAITING),
            )
            self._depth -= cursor.rowcount
        return self.get(key)

    def get(self, key: str) -> QueuedCheckin:
        with self._lock:
            return _item(_one(self._db, key))

    def pending(self, limit: int | None = None) -> list[QueuedCheckin]:
        """Items waiting for an answer, oldest first (the replay order)."""
        sql = "SELECT * FROM items WHERE state = ? ORDER BY seq"
        args: tuple[Any, ...] = (PENDING,)
        if limit is not None:
            sql += " LIMIT ?"
            args = (PENDING, limit)
        with self._lock:
            return [_item(r) for r in self._rows(sql, args)]

    def unknown(self) -> list[QueuedCheckin]:
        """Check-ins whose fate the service has to tell, oldest first."""
        with self._lock:
            return [
                _item(r)
                for r in self._rows("SELECT * FROM items WHERE state = ? ORDER BY seq", (UNKNOWN,))
            ]

    def depth(self) -> int:
        """How many check-ins wait to be sent or resolved (counted in memory: one process)."""
        return self._depth

    def has_voter(self, voter_hash: str, *, excluding: str | None = None) -> bool:
        """Whether this device already checked the voter in (or holds them provisionally)."""
        marks = ",".join("?" * len(_COUNTED))
        with self._lock:
            row = self._db.execute(
                f"SELECT 1 FROM items WHERE voter_hash = ? AND idempotency_key != ?"
                f" AND (state IN (?, ?) OR outcome IN ({marks})) LIMIT 1",
                (voter_hash, excluding or "", *WAITING, *_COUNTED),
            ).fetchone()
        return row is not None

    def items(self, outcome: str | None = None) -> list[QueuedCheckin]:
        """Every item (or those with ``outcome``), in the order taken."""
        args: tuple[Any, ...] = ()
        if outcome is None:
            sql = "SELECT * FROM items ORDER BY seq"
        else:
            sql, args = "SELECT * FROM items WHERE outcome = ? ORDER BY seq", (outcome,)
        with self._lock:
            return [_item(r) for r in self._rows(sql, args)]

    def conflicts(self) -> list[QueuedCheckin]:
        """Check-ins accepted offline whose voter was recorded elsewhere meanwhile."""
        return self.items("conflict")

    def _rows(self, sql: str, args: tuple[Any, ...]) -> list[sqlite3.Row]:
        self._db.row_factory = sqlite3.Row
        return list(self._db.execute(sql, args))

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.row_factory = sqlite3.Row
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close_day(self) -> int:
        """Drop every voter hash of the day (the local duplicate check ends with the day).

        Items still waiting to be sent keep theirs; returns how many hashes were dropped. The
        freed bytes are overwritten (``secure_delete``) and the WAL is emptied, so the hashes
        are gone from the file, not just from its rows.
        """
        with self._lock:
            cursor = self._db.execute(
                "UPDATE items SET voter_hash = NULL"
                " WHERE voter_hash IS NOT NULL AND state NOT IN (?, ?)",
                WAITING,
            )
            dropped = cursor.rowcount
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return dropped

    def scrub(self) -> None:
        """Empty the WAL into the file: erased codes and hashes leave its old page images too."""
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _private_file(path: Path, *, create: bool = True) -> None:
    """Make ``path`` readable and writable by its owner only (creating it empty if asked)."""
    flags = os.O_RDWR | (os.O_CREAT if create else 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileNotFoundError:
        return
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def outcome_of(status_code: int, body: Mapping[str, Any]) -> str:
    """The outcome of a service answer: ``accepted``, ``conflict`` or the refusal reason."""
    status = body.get("status")
    if status == "accepted":
        return "accepted"
    if status == "conflict":
        return "conflict"
    reason = body.get("reason")
    return str(reason) if reason else f"http_{status_code}"


def _one(db: sqlite3.Connection, key: str) -> sqlite3.Row:
    db.row_factory = sqlite3.Row
    row: sqlite3.Row | None = db.execute(
        "SELECT * FROM items WHERE idempotency_key = ?", (key,)
    ).fetchone()
    if row is None:
        raise KeyError(key)
    return row


def _item(row: sqlite3.Row) -> QueuedCheckin:
    return QueuedCheckin(
        seq=row["seq"],
        idempotency_key=row["idempotency_key"],
        voter_hash=row["voter_hash"],
        payload=json.loads(row["payload"]) if row["payload"] is not None else None,
        taken_at=dt.datetime.fromisoformat(row["taken_at"]),
        provisional_at=(
            dt.datetime.fromisoformat(row["provisional_at"]) if row["provisional_at"] else None
        ),
        state=row["state"],
        outcome=row["outcome"],
        status_code=row["status_code"],
        answer=json.loads(row["answer"]) if row["answer"] is not None else None,
        attempts=row["attempts"],
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


__all__ = ["DurableQueue", "QueuedCheckin", "outcome_of"]
