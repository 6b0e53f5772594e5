"""What a PostgreSQL primary tells about its standbys: lag, synchronous state, the quorum.

Read over the ledger's own database connection, so ``pollnet status`` and the service's
``/metrics`` see the replication exactly as the node that takes the writes sees it (whatever
manages the cluster: Patroni here, something else elsewhere).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from sqlalchemy.engine import Connection, Engine

SYNCHRONOUS_STATES = ("quorum", "sync")
"""``pg_stat_replication.sync_state`` of a standby whose flush can acknowledge a commit."""

_COUNTED = re.compile(r"^\s*(?:(ANY|FIRST)\s+)?(\d+)\s*\((.*)\)\s*$", re.IGNORECASE | re.DOTALL)


def quorum_size(names: str) -> int:
    """How many standbys must confirm a commit under ``synchronous_standby_names`` ``names``.

    ``''`` is asynchronous (0); ``ANY 1 (a, b)``, ``FIRST 2 (a, b, c)`` and ``2 (a, b)`` name
    the count; a bare list (``a, b`` or ``*``) means the first one alone (1).
    """
    text = names.strip()
    if not text:
        return 0
    match = _COUNTED.match(text)
    if match is not None:
        return int(match.group(2))
    return 1


@dataclass(frozen=True)
class Standby:
    """One standby as the primary sees it; ``lag_bytes`` is WAL not yet replayed there."""

    name: str
    address: str
    state: str
    sync_state: str
    lag_bytes: int
    replay_lag_s: float | None

    @property
    def synchronous(self) -> bool:
        """Whether its flush counts towards a commit's acknowledgement now."""
        return self.state == "streaming" and self.sync_state in SYNCHRONOUS_STATES


@dataclass(frozen=True)
class ReplicationStatus:
    """The node a connection reached, whether it takes writes, and its standbys and quorum."""

    node: str
    primary: bool
    synchronous_standby_names: str
    required: int
    standbys: tuple[Standby, ...]

    @property
    def acknowledging(self) -> int:
        """How many standbys can confirm a commit now."""
        return sum(s.synchronous for s in self.standbys)

    @property
    def quorum_met(self) -> bool:
        """A synchronous quorum is configured and enough standbys are there to meet it."""
        return self.primary and self.required > 0 and self.acknowledging >= self.required

    def as_json(self) -> dict[str, object]:
        return {
            "node": self.node,
            "primary": self.primary,
            "synchronous_standby_names": self.synchronous_standby_names,
            "quorum_required": self.required,
            "quorum_met": self.quorum_met,
            "standbys": [
                {
                    "name": s.name,
                    "address": s.address,
                    "state": s.state,
                    "sync_state": s.sync_state,
                    "lag_bytes": s.lag_bytes,
                    "replay_lag_s": s.replay_lag_s,
                }
                for s in self.standbys
            ],
        }


def replication_status(conn: Connection) -> ReplicationStatus | None:
    """The replication seen from the PostgreSQL node behind ``conn`` (None on SQLite)."""
    if conn.dialect.name != "postgresql":
        return None
    recovery, names, address, port = conn.exec_driver_sql(
        "SELECT pg_is_in_recovery(), current_setting('synchronous_standby_names'),"
        " coalesce(host(inet_server_addr()), 'local'), current_setting('port')"
    ).one()
    standbys: list[Standby] = []
    if not recovery:
        rows = conn.exec_driver_sql(
            "SELECT application_name, coalesce(host(client_addr), 'local'), state, sync_state,"
            " coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0)::bigint,"
            " extract(epoch FROM replay_lag)::float8"
            " FROM pg_stat_replication ORDER BY application_name"
        )
        standbys = [
            Standby(
                str(r[0]),
                str(r[1]),
                str(r[2]),
                str(r[3]),
                int(r[4]),
                None if r[5] is None else float(r[5]),
            )
            for r in rows
        ]
    conn.rollback()
    return ReplicationStatus(
        f"{address}:{port}", not recovery, str(names), quorum_size(str(names)), tuple(standbys)
    )


class ReplicationWatch:
    """Asks the primary for its replication every ``interval_s`` seconds, on its own thread.

    ``status`` is the last answer (None on SQLite, or while no primary answers); ``reachable``
    says whether the last attempt reached a node that takes writes. The service shows both on
    ``/metrics`` and ``/v1/health``.
    """

    def __init__(self, engine: Engine, interval_s: float = 2.0) -> None:
        self.engine = engine
        self.interval_s = interval_s
        self.status: ReplicationStatus | None = None
        self.reachable = True
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def start(self) -> None:
        if self.enabled and self._thread is None:
            self._stop.clear()
            self.check()
            self._thread = threading.Thread(target=self._run, name="replication-watch", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def check(self) -> None:
        """Ask once now."""
        try:
            with self.engine.connect() as conn:
                status = replication_status(conn)
        except Exception:  # no primary right now: say so, keep asking
            self.status, self.reachable = None, False
            return
        self.status = status
        self.reachable = status is not None and status.primary

    @property
    def problem(self) -> str | None:
        """``no_primary`` or ``no_quorum`` when check-ins cannot be committed now, else None."""
        if not self.enabled:
            return None
        if not self.reachable:
            return "no_primary"
        status = self.status
        if status is not None and status.required > 0 and not status.quorum_met:
            return "no_quorum"
        return None

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.check()
