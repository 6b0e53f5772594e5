"""The check-in ledger: every voter recorded exactly once per election, durably, with group commit.

One writer thread owns the database connection. Check-ins queue up while it commits; it takes
everything queued (up to ``max_batch``) as one transaction, so one ``fsync`` acknowledges many
check-ins (group commit). An answer is handed back only after its transaction has committed: on
SQLite with WAL and ``synchronous=FULL``, on PostgreSQL with ``synchronous_commit=on``. The unique
constraint on ``(election, voter_hash)`` is the source of truth for "exactly once"; the reads
before the insert only shape the answer, and a constraint violation (another writer raced us)
re-runs the batch one check-in at a time.

Every answer is stored with its idempotency key (per device), so a retry gets it back verbatim.

The database may go away under the writer (a failover of the replicated deployment, a dropped
connection). A batch whose commit failed, or whose fate is unknown because the connection died
during ``COMMIT``, is written again once the writer has reconnected (through a multi-host URL,
to whichever node is primary now): the batch's idempotency keys decide, so what did commit
comes back as its stored answers and what did not is inserted, never both. Only when the
database stays away longer than ``hold_s`` does the writer answer 503 (retry with the same key).

Several writers (``pollnet serve`` processes on several machines) may share one PostgreSQL
database: each batch takes a transaction-level advisory lock of the election's ledger first and
reads the ids and the audit chain another writer may have moved, so batches of all writers form
one chain; the unique constraints stay the judge of "exactly once".
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from pollnet.i18n import tr
from pollnet.link import audit
from pollnet.link.checkin import Checkin, voter_hash
from pollnet.link.national_code import normalise_national_code
from pollnet.store.bulk import insert_many, one_of
from pollnet.store.engine import advisory_key
from pollnet.store.schema.link import checkins, voter_roll

ROLL_RECHECK_S = 10.0
# PostgreSQL: ANALYZE the ledger's tables whenever they have doubled since the last time (from
# this many rows). A table created on election morning has no statistics until autovacuum's
# first pass; without them the planner reads every check-in of the election for each batch's
# duplicate lookup (tens of milliseconds at ten thousand rows) instead of probing the index.
ANALYZE_FROM_ROWS = 500
HOLD_S = 4.0
"""How long (seconds) a check-in waits for the database to come back before it is answered 503:
a failover of the replicated deployment takes a few seconds; devices time out after 5."""
RECONNECT_MAX_S = 0.5
# SQLSTATE classes and codes that mean the database, not the batch, failed: a connection
# exception (08), operator intervention such as a shutdown (57), insufficient resources (53), a
# system error (58), and a read-only transaction (25006: the node is a standby now).
_OUTAGE_CLASSES = ("08", "53", "57", "58")
_OUTAGE_CODES = ("25006",)
log = logging.getLogger("pollnet.link.ledger")


@dataclass(frozen=True)
class Answer:
    """What the service answers a check-in: an HTTP status code and the exact JSON body."""

    status_code: int
    body: bytes
    replayed: bool = field(default=False, compare=False)
    """Whether this is the stored answer of an earlier request with the same key."""

    def json(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value


UNAVAILABLE = Answer(
    503,
    b'{"status":"unavailable","reason":"ledger_unavailable",'
    b'"message":"the ledger cannot write now; retry with the same idempotency key"}',
)
UNWRITABLE = Answer(
    400,
    b'{"status":"refused","reason":"malformed",'
    b'"message":"this check-in cannot be stored as sent; it was not recorded"}',
)
"""The answer of a check-in that fails the database's checks alone (every other one is written)."""


class Outcome(NamedTuple):
    """One ledger outcome for the transparency log: what happened to a voter at a station.

    A named tuple, not a dataclass: the writer makes one per logged check-in, and the log's
    encoder takes the tuples as they are.
    """

    kind: str
    """``accepted``, ``accepted_offline`` (replayed), ``duplicate`` (refused) or ``conflict``."""
    station: str
    device: str
    at: dt.datetime
    voter_hash: str
    """The ledger's voter hash; the log publishes its own keyed hash of it, never this one."""


class OutcomeLog(Protocol):
    """Where the writer appends each batch's outcomes, inside the batch's own transaction."""

    def append(self, conn: Connection, outcomes: Sequence[Outcome]) -> int:
        """Write ``outcomes`` in ``conn``'s open transaction; the log index of the first."""
        ...

    def reload(self, conn: Connection) -> None:
        """Forget anything not committed (after a rollback or a new connection)."""
        ...


@dataclass(slots=True)
class _Pending:
    """A queued check-in: its answer goes to ``deliver`` or, from an event loop, ``future``."""

    checkin: Checkin
    deliver: Callable[[Answer], None] | None
    future: asyncio.Future[Answer] | None = None
    queued_at: float = field(default_factory=time.monotonic)


class Ledger:
    """The writer of the check-in ledger of one election on ``engine``.

    Use as a context manager (or :meth:`start`/:meth:`stop`); submit from any thread with
    :meth:`record` (blocking) or from an event loop with :meth:`record_async`.
    """

    def __init__(
        self,
        engine: Engine,
        election: str,
        *,
        lang: str = "en",
        max_batch: int = 512,
        outcome_log: OutcomeLog | None = None,
        hold_s: float = HOLD_S,
    ) -> None:
        self.engine = engine
        self.outcome_log = outcome_log
        self.election = election
        self.lang = lang
        self.max_batch = max_batch
        self.hold_s = hold_s
        self.batches = 0
        self.unwritable = 0
        self.retried_batches = 0
        """Batches written again after the database failed under them (a failover)."""
        self.connected = True
        """False from a failure of the database until the writer has connected again (it is not
        False before the first connection: a service starting up is not one that lost its
        primary)."""
        self._retry: list[_Pending] = []
        self._queue: deque[_Pending] = deque()
        self._staged: dict[asyncio.AbstractEventLoop, list[_Pending]] = {}
        self._wake = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._roll_loaded = False
        self._roll_checked_at = -1e18
        self._next_ids: dict[str, int] = {}
        self._analyzed_rows = 0
        self._analyzing: threading.Thread | None = None
        self._chain: list[str] = [audit.GENESIS]
        self.head: tuple[int, str] = (0, audit.GENESIS)
        """The committed audit chain's head: (batches, chain value); see ``pollnet.link.anchor``."""

    def __enter__(self) -> Ledger:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start the writer thread."""
        if self._thread is None:
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="ledger-writer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Write what is queued, then stop the writer thread."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def submit(self, checkin: Checkin, deliver: Callable[[Answer], None]) -> None:
        """Queue ``checkin``; the writer thread calls ``deliver`` once it is committed."""
        self._enqueue(_Pending(checkin, deliver))

    def _enqueue(self, pending: _Pending) -> None:
        with self._wake:
            self._queue.append(pending)
            if len(self._queue) == 1:  # the writer waits only on an empty queue
                self._wake.notify()

    def record(self, checkin: Checkin, timeout: float = 30.0) -> Answer:
        """Record ``checkin`` and wait for its durable answer (for threads, tests and tools)."""
        done = threading.Event()
        result: list[Answer] = []

        def deliver(answer: Answer) -> None:
            result.append(answer)
            done.set()

        self.submit(checkin, deliver)
        if not done.wait(timeout):
            raise TimeoutError("the ledger did not answer in time")
        return result[0]

    async def record_async(self, checkin: Checkin) -> Answer:
        """Record ``checkin`` from an event loop; resolves once it is committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Answer] = loop.create_future()
        staged = self._staged.get(loop)
        if staged is None:  # the first of this turn of the loop: hand them over at its end
            staged = self._staged[loop] = []
            loop.call_soon(self._hand_over, loop)
        staged.append(_Pending(checkin, None, future))
        return await future

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        """Queue the check-ins ``loop`` staged in one turn: one lock and one wake-up for all."""
        staged = self._staged.pop(loop, [])
        with self._wake:
            self._queue.extend(staged)
            self._wake.notify()

    def _run(self) -> None:
        failures = 0
        while True:
            try:
                with self.engine.connect() as conn:
                    _make_durable(conn)
                    self._read_next_ids(conn)
                    self.connected = True
                    failures = 0
                    if self._drain(conn):
                        return
            except Exception:
                # The database went away (a failover, a dropped connection, a full disk): the
                # batch in flight is kept and written again after reconnecting (its keys tell
                # what had committed); what waits longer than hold_s is answered 503.
                self.connected = False
                failures += 1
                log.warning(
                    "the ledger writer lost its database connection (attempt %d)",
                    failures,
                    exc_info=failures == 1,
                )
                self._expire(time.monotonic())
                with self._wake:
                    if self._stopping and not self._queue and not self._retry:
                        return
                time.sleep(min(RECONNECT_MAX_S, 0.05 * 2**failures))

    def _expire(self, now: float) -> None:
        """Answer 503 to what has waited for the database longer than ``hold_s``."""
        expired: list[_Pending] = []
        if self._retry and now - self._retry[0].queued_at > self.hold_s:
            expired, self._retry = self._retry, []
        with self._wake:
            while self._queue and now - self._queue[0].queued_at > self.hold_s:
                expired.append(self._queue.popleft())
        if expired:
            _deliver(expired, [UNAVAILABLE] * len(expired))

    def _drain(self, conn: Connection) -> bool:
        """Write batches until stopped (returns True) or the database fails (raises).

        The batch being written stays in ``_retry`` until its answers are delivered: when the
        database fails under it, the next connection writes it again first.
        """
        while True:
            batch = self._retry
            if batch:
                self.retried_batches += 1
            else:
                with self._wake:
                    while not self._queue and not self._stopping:
                        self._wake.wait()
                    if not self._queue and self._stopping:
                        return True
                    count = min(len(self._queue), self.max_batch)
                    batch = [self._queue.popleft() for _ in range(count)]
                self._retry = batch
            answers = self._write(conn, batch)
            self._retry = []
            self.batches += 1
            self.head = (self._next_ids["ledger_audit"] - 1, self._chain[0])
            _deliver(batch, answers)
            if conn.dialect.name == "postgresql":
                self._maybe_analyze()

    def _maybe_analyze(self) -> None:
        """Start an ``ANALYZE`` on a connection of its own once the ledger has doubled."""
        rows = self._next_ids.get("checkins", 1) - 1
        if rows < max(ANALYZE_FROM_ROWS, 2 * self._analyzed_rows):
            return
        if self._analyzing is not None and self._analyzing.is_alive():
            return
        self._analyzed_rows = rows
        self._analyzing = threading.Thread(target=self._analyze, name="ledger-analyze", daemon=True)
        self._analyzing.start()

    def _analyze(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE checkins, idempotency_keys, checkin_conflicts")
                conn.commit()
        except Exception:  # statistics are an optimisation: the ledger goes on without them
            log.warning("ANALYZE of the ledger's tables failed", exc_info=True)

    def _write(self, conn: Connection, batch: Sequence[_Pending]) -> list[Answer]:
        """The answers of ``batch``, committed; an item that cannot be written alone gets 400.

        A batch that fails for a reason other than the database itself (an outage raises) is
        split in halves and each half written on its own, down to the single item that fails:
        that item is answered :data:`UNWRITABLE` and every other one is recorded as usual, so
        no input of one device can fail another device's check-in.
        """
        items = [p.checkin for p in batch]
        self._refresh_roll(conn)
        return self._write_isolating(conn, items)

    def _write_isolating(self, conn: Connection, items: Sequence[Checkin]) -> list[Answer]:
        try:
            return self._write_items(conn, items)
        except Exception as exc:
            self._recover(conn, exc)
            if len(items) == 1:
                log.error(
                    "a check-in of device %s could not be written and was answered 400",
                    items[0].device,
                    exc_info=exc,
                )
                self.unwritable += 1
                return [UNWRITABLE]
        half = len(items) // 2
        return [
            *self._write_isolating(conn, items[:half]),
            *self._write_isolating(conn, items[half:]),
        ]

    def _recover(self, conn: Connection, exc: Exception) -> None:
        """Roll back after ``exc``; re-raise it when the database itself failed (an outage).

        An outage is an operational error (a dropped connection, a full disk, a lock timeout)
        or a connection that no longer answers; anything else belongs to the items written.
        """
        if _is_outage(exc) or conn.invalidated:
            raise exc
        try:
            conn.rollback()
            self._read_next_ids(conn)  # the ids and the audit chain as they were committed
        except Exception:
            raise exc from None

    def _write_items(self, conn: Connection, items: Sequence[Checkin]) -> list[Answer]:
        try:
            self._claim(conn)
            answers = _write_batch(
                conn,
                items,
                self.election,
                self._roll_loaded,
                self.lang,
                self._next_ids,
                self._chain,
                self.outcome_log,
            )
            conn.commit()
            return answers
        except IntegrityError:
            conn.rollback()
            self._read_next_ids(conn)
        # Someone else wrote one of these voters or keys meanwhile: one at a time now.
        answers = []
        for item in items:
            for attempt in range(2):
                try:
                    self._claim(conn)
                    answers.extend(
                        _write_batch(
                            conn,
                            [item],
                            self.election,
                            self._roll_loaded,
                            self.lang,
                            self._next_ids,
                            self._chain,
                            self.outcome_log,
                        )
                    )
                    conn.commit()
                    break
                except IntegrityError:
                    conn.rollback()
                    self._read_next_ids(conn)
                    if attempt == 1:
                        raise
        return answers

    def _claim(self, conn: Connection) -> None:
        """Begin a batch's transaction as the only writer of this election's ledger.

        On PostgreSQL several services may write one ledger: a transaction-level advisory lock
        orders their batches, and under it the ids, the audit chain's head and the outcome log's
        size are read as the other writers left them (one round trip, and one for the log).
        SQLite has one writer: the service that owns the file.
        """
        if conn.dialect.name != "postgresql":
            return
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (advisory_key(self._lock_name),))
        checkin, conflict, audit_id, chain = conn.exec_driver_sql(
            "SELECT (SELECT coalesce(max(id), 0) FROM checkins),"
            " (SELECT coalesce(max(id), 0) FROM checkin_conflicts),"
            " coalesce(max(id), 0), (array_agg(chain ORDER BY id DESC))[1]"
            " FROM (SELECT id, chain FROM ledger_audit ORDER BY id DESC LIMIT 1) AS head"
        ).one()
        self._next_ids = {
            "checkins": int(checkin) + 1,
            "checkin_conflicts": int(conflict) + 1,
            "ledger_audit": int(audit_id) + 1,
        }
        self._chain = [chain or audit.GENESIS]
        if self.outcome_log is not None:
            self.outcome_log.reload(conn)

    @property
    def _lock_name(self) -> str:
        return f"ledger:{self.election}"

    def _read_next_ids(self, conn: Connection) -> None:
        sql = _Sql(conn)
        self._next_ids = {
            t: sql.max_id(t) + 1 for t in ("checkins", "checkin_conflicts", "ledger_audit")
        }
        last = sql.fetch("SELECT chain FROM ledger_audit ORDER BY id DESC LIMIT 1", ())
        self._chain = [last[0][0] if last else audit.GENESIS]
        self.head = (self._next_ids["ledger_audit"] - 1, self._chain[0])
        if self.outcome_log is not None:
            self.outcome_log.reload(conn)
        conn.commit()

    def _refresh_roll(self, conn: Connection) -> None:
        now = time.monotonic()
        if now - self._roll_checked_at >= ROLL_RECHECK_S:
            self._roll_checked_at = now
            self._roll_loaded = roll_size(conn, self.election) > 0
            conn.commit()


def _deliver(batch: Sequence[_Pending], answers: Sequence[Answer]) -> None:
    """Hand the answers over: one wake-up per event loop and batch, not one per check-in."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Answer], Answer]]] = {}
    for pending, answer in zip(batch, answers, strict=True):
        if pending.future is not None:
            by_loop.setdefault(pending.future.get_loop(), []).append((pending.future, answer))
        elif pending.deliver is not None:
            pending.deliver(answer)
    for loop, pairs in by_loop.items():
        # A closed loop raises RuntimeError: nobody waits for those answers any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_resolve, pairs)


def _resolve(pairs: list[tuple[asyncio.Future[Answer], Answer]]) -> None:
    for future, answer in pairs:
        if not future.done():
            future.set_result(answer)


def _is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` says the database failed (retry the batch) rather than the batch itself."""
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    state = getattr(getattr(exc, "orig", None), "sqlstate", None) or ""
    return state[:2] in _OUTAGE_CLASSES or state in _OUTAGE_CODES


def _make_durable(conn: Connection) -> None:
    """Acknowledge only what is on disk: full sync on SQLite, synchronous commit on PostgreSQL."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA synchronous=FULL")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET synchronous_commit TO on")
    conn.commit()


def _write_batch(
    conn: Connection,
    items: Sequence[Checkin],
    election: str,
    roll_loaded: bool,
    lang: str,
    next_ids: dict[str, int],
    chain: list[str],
    outcome_log: OutcomeLog | None = None,
) -> list[Answer]:
    """Plan and write one batch inside the open transaction; answers in the order of ``items``.

    ``next_ids`` holds the next free id of ``checkins``, ``checkin_conflicts`` and
    ``ledger_audit``; ``chain`` (one element) the audit chain so far. Both advance. Every
    accepted, duplicate and conflicting check-in goes to ``outcome_log`` in the same
    transaction, and its answer carries its ``log_index``.
    """
    now = dt.datetime.now(dt.UTC)
    sql = _Sql(conn)
    stored = _stored_answers(sql, items)
    digests = [_digest(item) for item in items]
    hashes = {c.voter_hash for c in items if c.voter_hash is not None and c.refusal is None}
    first = _first_checkins(sql, election, hashes)
    on_roll = _on_roll(sql, election, hashes) if roll_loaded else hashes

    answers: list[Answer | None] = [None] * len(items)
    seen_keys: dict[tuple[str, str], int] = {}
    new_rows: list[dict[str, Any]] = []
    new_index: list[int] = []
    batch_first: dict[str, int] = {}  # voter hash -> position in new_rows
    conflicts: list[tuple[int, dict[str, Any]]] = []
    duplicates: list[int] = []
    for i, item in enumerate(items):
        key = (item.device, item.idempotency_key)
        if key in stored:
            answer, first_digest = stored[key]
            # The key's answer goes only to the request it answered (digest None: older rows),
            # and to the device asking what became of it (a lookup, see the service).
            same = _same_request(first_digest, digests[i])
            answers[i] = answer if same else _key_reused(lang)
            continue
        if key in seen_keys:
            if not _same_request(digests[seen_keys[key]], digests[i]):
                answers[i] = _key_reused(lang)
            continue  # the same request twice in one batch: answered like the first
        seen_keys[key] = i
        if item.refusal is not None:
            answers[i] = _refused(item.refusal.reason, item.refusal.message, lang)
            continue
        assert item.voter_hash is not None
        if item.voter_hash not in on_roll:
            answers[i] = _refused("not_on_roll", "the voter is not on the roll", lang)
            continue
        row = _row(item, election, now)
        if item.voter_hash in first or item.voter_hash in batch_first:
            if item.provisional_at is not None:
                conflicts.append((i, row))
            else:
                duplicates.append(i)
            continue
        batch_first[item.voter_hash] = len(new_rows)
        new_rows.append(row)
        new_index.append(i)

    logged: dict[int, int] = {}
    if outcome_log is not None:
        positions = [*new_index, *(i for i, _ in conflicts), *duplicates]
        logged = _log_outcomes(sql.conn, outcome_log, items, now, positions, len(new_index))
    for i in duplicates:
        voter = items[i].voter_hash
        assert voter is not None
        answers[i] = _duplicate(first, batch_first, new_rows, voter, logged.get(i))
    new_ids = _allocate(next_ids, "checkins", new_rows)
    _insert_rows(sql, "checkins", new_rows)
    recorded_at = _iso(now)
    for i, row, checkin_id in zip(new_index, new_rows, new_ids, strict=True):
        body = {
            "status": "accepted",
            "checkin_id": checkin_id,
            "station": row["station"],
            "device": row["device"],
            "recorded_at": recorded_at,
        }
        if logged:
            body["log_index"] = logged[i]
        answers[i] = _answer(201, body)
    conflict_rows: list[dict[str, Any]] = []
    conflict_ids: list[int] = []
    if conflicts:
        for _i, row in conflicts:
            voter = row["voter_hash"]
            first_id = first[voter][0] if voter in first else new_ids[batch_first[voter]]
            conflict_rows.append({**row, "first_checkin_id": first_id})
        conflict_ids = _allocate(next_ids, "checkin_conflicts", conflict_rows)
        _insert_rows(sql, "checkin_conflicts", conflict_rows, ("first_checkin_id",))
        for (i, row), conflict_id in zip(conflicts, conflict_ids, strict=True):
            conflict: dict[str, Any] = {
                "status": "conflict",
                "conflict_id": conflict_id,
                "first": _where(first, batch_first, new_rows, row["voter_hash"]),
            }
            if logged:
                conflict["log_index"] = logged[i]
            answers[i] = _answer(200, conflict)
    if new_rows or conflicts:
        _audit(sql, now, new_ids, new_rows, conflict_ids, conflict_rows, next_ids, chain)
    for i, item in enumerate(items):
        if answers[i] is None:  # a repeat within the batch
            answers[i] = answers[seen_keys[(item.device, item.idempotency_key)]]
    created = sql.time(now)
    key_rows = [
        (
            items[i].device,
            items[i].idempotency_key,
            answers[i].status_code,  # type: ignore[union-attr]
            answers[i].body,  # type: ignore[union-attr]
            created,
            digests[i],
        )
        for i in seen_keys.values()
    ]
    sql.insert(
        "idempotency_keys",
        ("device", "key", "status_code", "body", "created_at", "request_digest"),
        key_rows,
    )
    return [a for a in answers if a is not None]


def _log_outcomes(
    conn: Connection,
    outcome_log: OutcomeLog,
    items: Sequence[Checkin],
    now: dt.datetime,
    positions: Sequence[int],
    accepted: int,
) -> dict[int, int]:
    """Append the outcomes of the items at ``positions`` (the first ``accepted`` of them were
    accepted, then conflicts, then duplicates) in item order; their log index by position."""
    kinds = {}
    for n, i in enumerate(positions):
        if n < accepted:
            kinds[i] = "accepted" if items[i].provisional_at is None else "accepted_offline"
        else:
            kinds[i] = "conflict" if items[i].provisional_at is not None else "duplicate"
    if not kinds:
        return {}
    order = sorted(kinds)
    outcomes = [
        Outcome(kinds[i], items[i].station, items[i].device, now, items[i].voter_hash or "")
        for i in order
    ]
    first = outcome_log.append(conn, outcomes)
    return {i: first + offset for offset, i in enumerate(order)}


class _Sql:
    """The hot path's statements as plain SQL on the driver: compiled once, not per batch.

    SQLAlchemy compiles an ``IN`` list and runs ``RETURNING`` row by row on SQLite; at a few
    thousand check-ins a second that cost more than the database, so the writer talks to the
    driver directly here and allocates ids itself (it is the only writer of these tables).
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        self.mark = "?" if self.sqlite else "%s"

    def time(self, value: dt.datetime | None) -> Any:
        """A datetime as the column stores it: UTC (SQLite: SQLAlchemy's naive text form)."""
        if value is None:
            return None
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None).isoformat(" ", "microseconds") if self.sqlite else utc

    def read_time(self, value: Any) -> dt.datetime:
        return dt.datetime.fromisoformat(value) if isinstance(value, str) else value

    def fetch(self, sql: str, params: Sequence[Any]) -> list[Any]:
        return list(self.conn.exec_driver_sql(sql, tuple(params)))

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        insert_many(self.conn, table, columns, rows)

    def one_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        return one_of(self.conn, column, values)

    def max_id(self, table: str) -> int:
        return int(self.fetch(f"SELECT coalesce(max(id), 0) FROM {table}", ())[0][0])


_ROW_COLUMNS = (
    "id",
    "election",
    "voter_hash",
    "station",
    "device",
    "recorded_at",
    "device_time",
    "provisional_at",
    "card_read",
    "fingerprint_score",
)


def _stored_answers(
    sql: _Sql, items: Sequence[Checkin]
) -> dict[tuple[str, str], tuple[Answer, str | None]]:
    """The stored answer of each ``(device, key)`` of ``items`` and its request's digest."""
    keys = sorted({c.idempotency_key for c in items})
    match, params = sql.one_of("key", keys)
    rows = sql.fetch(
        "SELECT device, key, status_code, body, request_digest FROM idempotency_keys"
        f" WHERE {match}",
        params,
    )
    return {(r[0], r[1]): (Answer(int(r[2]), bytes(r[3]), replayed=True), r[4]) for r in rows}


LOOKUP_DIGEST = "lookup"
"""The request digest of a device's question about its own key (``GET /v1/checkins/{key}``):
it gets the key's answer whatever the request was, and a key it closes (never recorded) answers
the lost request, should it still come, with that closing answer."""


def _same_request(first: str | None, then: str) -> bool:
    return first is None or first == then or LOOKUP_DIGEST in (first, then)


def _digest(item: Checkin) -> str:
    """The request digest of ``item``: the parser's, or one of its fields when built directly."""
    if item.request_digest:
        return item.request_digest
    text = "|".join(
        map(
            str,
            (item.voter_hash, item.device_time.isoformat(), item.card_read, item.fingerprint_score),
        )
    )
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _key_reused(lang: str) -> Answer:
    return _answer(
        409,
        {
            "status": "refused",
            "reason": "idempotency_key_reused",
            "message": tr(
                "this idempotency key was already used for another check-in;"
                " send this one with a new key",
                lang,
            ),
        },
    )


def _first_checkins(
    sql: _Sql, election: str, hashes: Iterable[str]
) -> dict[str, tuple[int, str, dt.datetime]]:
    hashes = sorted(hashes)
    if not hashes:
        return {}
    match, params = sql.one_of("voter_hash", hashes)
    rows = sql.fetch(
        "SELECT voter_hash, id, station, recorded_at FROM checkins"
        f" WHERE election = {sql.mark} AND {match}",
        [election, *params],
    )
    return {r[0]: (int(r[1]), r[2], sql.read_time(r[3])) for r in rows}


def _on_roll(sql: _Sql, election: str, hashes: Iterable[str]) -> set[str]:
    hashes = sorted(hashes)
    if not hashes:
        return set()
    match, params = sql.one_of("voter_hash", hashes)
    rows = sql.fetch(
        f"SELECT voter_hash FROM voter_roll WHERE election = {sql.mark} AND {match}",
        [election, *params],
    )
    return {r[0] for r in rows}


def _insert_rows(
    sql: _Sql, table: str, rows: list[dict[str, Any]], extra: Sequence[str] = ()
) -> None:
    time = sql.time
    last_at: dt.datetime | None = None
    last_text: Any = None
    values = []
    for r in rows:
        if r["recorded_at"] is not last_at:  # one batch, one recorded_at: convert it once
            last_at = r["recorded_at"]
            last_text = time(last_at)
        values.append(
            (
                r["id"],
                r["election"],
                r["voter_hash"],
                r["station"],
                r["device"],
                last_text,
                time(r["device_time"]),
                time(r["provisional_at"]),
                r["card_read"],
                r["fingerprint_score"],
                *(r[c] for c in extra),
            )
        )
    sql.insert(table, (*_ROW_COLUMNS, *extra), values)


def _audit(
    sql: _Sql,
    now: dt.datetime,
    new_ids: list[int],
    new_rows: list[dict[str, Any]],
    conflict_ids: list[int],
    conflict_rows: list[dict[str, Any]],
    next_ids: dict[str, int],
    chain: list[str],
) -> None:
    """Add the batch's audit row: its id ranges, their digest, the chain (see ``audit``)."""
    audit_id = next_ids["ledger_audit"]
    next_ids["ledger_audit"] = audit_id + 1
    checkin_from = new_ids[0] if new_ids else next_ids["checkins"]
    conflict_from = conflict_ids[0] if conflict_ids else next_ids["checkin_conflicts"]
    row = {
        "id": audit_id,
        "recorded_at": now,
        "first_checkin": checkin_from,
        "last_checkin": checkin_from + len(new_ids) - 1,
        "first_conflict": conflict_from,
        "last_conflict": conflict_from + len(conflict_ids) - 1,
    }
    lines = [audit.batch_line(row)]
    lines += [audit.row_line("checkin", r) for r in new_rows]
    lines += [audit.row_line("conflict", r) for r in conflict_rows]
    batch_digest = audit.digest(lines)
    chain[0] = audit.chain_next(chain[0], batch_digest)
    sql.insert(
        "ledger_audit",
        (*audit.AUDIT_COLUMNS, "format", "digest", "chain"),
        [
            (
                *(sql.time(now) if c == "recorded_at" else row[c] for c in audit.AUDIT_COLUMNS),
                audit.FORMAT,
                batch_digest,
                chain[0],
            )
        ],
    )


def _allocate(next_ids: dict[str, int], table: str, rows: list[dict[str, Any]]) -> list[int]:
    start = next_ids[table]
    next_ids[table] = start + len(rows)
    for offset, row in enumerate(rows):
        row["id"] = start + offset
    return list(range(start, start + len(rows)))


def _row(item: Checkin, election: str, now: dt.datetime) -> dict[str, Any]:
    return {
        "election": election,
        "voter_hash": item.voter_hash,
        "station": item.station,
        "device": item.device,
        "recorded_at": now,
        "device_time": item.device_time,
        "provisional_at": item.provisional_at,
        "card_read": item.card_read,
        "fingerprint_score": item.fingerprint_score,
    }


def _where(
    first: dict[str, tuple[int, str, dt.datetime]],
    batch_first: dict[str, int],
    new_rows: list[dict[str, Any]],
    voter: str,
) -> dict[str, str]:
    if voter in first:
        _id, station, at = first[voter]
        return {"station": station, "at": _iso(at)}
    row = new_rows[batch_first[voter]]
    return {"station": row["station"], "at": _iso(row["recorded_at"])}


def _duplicate(
    first: dict[str, tuple[int, str, dt.datetime]],
    batch_first: dict[str, int],
    new_rows: list[dict[str, Any]],
    voter: str,
    log_index: int | None = None,
) -> Answer:
    body: dict[str, Any] = {
        "status": "refused",
        "reason": "duplicate",
        "first": _where(first, batch_first, new_rows, voter),
    }
    if log_index is not None:
        body["log_index"] = log_index
    return _answer(409, body)


def _refused(reason: str, message: str, lang: str) -> Answer:
    return _answer(422, {"status": "refused", "reason": reason, "message": tr(message, lang)})


def _answer(status_code: int, body: dict[str, Any]) -> Answer:
    return Answer(status_code, orjson.dumps(body))


def _iso(value: dt.datetime) -> str:
    """UTC ISO 8601 with an offset; SQLite hands back naive UTC datetimes."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat()


def roll_size(conn: Connection, election: str) -> int:
    """How many voters the loaded roll of ``election`` holds (0: no roll, nobody is refused)."""
    count = conn.scalar(
        sa.select(sa.func.count()).select_from(voter_roll).where(voter_roll.c.election == election)
    )
    return int(count or 0)


def load_roll(engine: Engine, election: str, hmac_key: bytes, codes: Iterable[str]) -> int:
    """Load voters' national codes into the roll of ``election``; only their hashes are kept.

    Invalid codes are skipped; returns how many voters were added.
    """
    hashes = set()
    for code in codes:
        normal = normalise_national_code(code)
        if normal is not None:
            hashes.add(voter_hash(hmac_key, normal))
    with engine.begin() as conn:
        have = set(
            conn.scalars(
                sa.select(voter_roll.c.voter_hash).where(voter_roll.c.election == election)
            )
        )
        rows = [{"election": election, "voter_hash": h} for h in hashes - have]
        if rows:
            conn.execute(voter_roll.insert(), rows)
    return len(rows)


def checkin_count(engine: Engine, election: str) -> int:
    """How many voters the ledger of ``election`` holds."""
    with engine.connect() as conn:
        count = conn.scalar(
            sa.select(sa.func.count()).select_from(checkins).where(checkins.c.election == election)
        )
    return int(count or 0)


def recorded_ids(engine: Engine, ids: Iterable[int]) -> set[int]:
    """Which of the check-in ids ``ids`` are in the ledger (nothing acknowledged may be lost)."""
    wanted = list(ids)
    found: set[int] = set()
    with engine.connect() as conn:
        for start in range(0, len(wanted), 5000):
            chunk = wanted[start : start + 5000]
            found.update(conn.scalars(sa.select(checkins.c.id).where(checkins.c.id.in_(chunk))))
    return found
