"""Station readiness from heartbeats: the pure rule, and the board written to both backends."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
import time
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.engine import Engine

from pollnet.link.checkin import MalformedRequest
from pollnet.link.heartbeat import (
    Heartbeat,
    HeartbeatBoard,
    parse_heartbeat,
    readiness,
    station_state,
)
from pollnet.link.pki import DeviceIdentity
from pollnet.store import open_store
from pollnet.store.schema.link import device_states, heartbeats, station_states

NOW = dt.datetime(2028, 2, 25, 10, 0, tzinfo=dt.UTC)


def _ago(seconds: float) -> dt.datetime:
    return NOW - dt.timedelta(seconds=seconds)


def test_station_state_rule() -> None:
    assert station_state([("fiber", _ago(5)), ("fiber", _ago(50))], 2, NOW, 30) == "ready"
    assert station_state([("fiber", _ago(5)), ("lte", _ago(5))], 2, NOW, 30) == "degraded"
    assert station_state([("fiber", _ago(5)), ("fiber", _ago(95))], 2, NOW, 30) == "degraded"
    assert station_state([("fiber", _ago(5))], 2, NOW, 30) == "degraded"  # one missing
    assert station_state([("fiber", _ago(91)), ("fiber", _ago(200))], 2, NOW, 30) == "offline"
    assert station_state([], 1, NOW, 30) == "offline"


def _beat(device: str, station: str, link: str, seconds_ago: float) -> Heartbeat:
    return Heartbeat(device, station, link, 0, 0.4, "1.2.0", 77, _ago(seconds_ago))


def test_board_keeps_current_state_and_history(db_url: str) -> None:
    engine = open_store(db_url)
    board = HeartbeatBoard(engine, interval_s=30)
    board.record(_beat("D-1", "ST-1", "fiber", 20))
    board.record(_beat("D-1", "ST-1", "lte", 10))
    board.record(_beat("D-2", "ST-2", "fiber", 5))
    board.flush()
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(heartbeats)) == 3
        states = {r.device: r.link for r in conn.execute(sa.select(device_states))}
        changes = {r.station: r.state for r in conn.execute(sa.select(station_states))}
    assert states == {"D-1": "lte", "D-2": "fiber"}
    assert changes == {"ST-1": "degraded", "ST-2": "ready"}
    # A new board (a restarted service, or `pollnet status`) reads the state back.
    by_station = {s.station: s for s in readiness(engine, NOW, 30)}
    assert by_station["ST-1"].state == "degraded" and by_station["ST-1"].on_lte == 1
    assert by_station["ST-2"].state == "ready"
    later = {s.station: s.state for s in readiness(engine, NOW + dt.timedelta(minutes=5), 30)}
    assert later == {"ST-1": "offline", "ST-2": "offline"}


def test_status_command_prints_readiness(tmp_path: object) -> None:
    from pathlib import Path

    from pollnet.cli import cli

    url = f"sqlite:///{Path(str(tmp_path)) / 'status.db'}"
    engine = open_store(url)
    board = HeartbeatBoard(engine, interval_s=30)
    now = dt.datetime.now(dt.UTC)
    board.record(Heartbeat("D-1", "ST-1", "fiber", 0, 0.0, "1", None, now))
    board.flush()
    result = CliRunner().invoke(cli, ["--db", url, "--lang", "en", "status"])
    assert result.exit_code == 0, result.output
    assert "unregistered: ready 1, degraded 0, offline 0" in result.output
    result = CliRunner().invoke(cli, ["--db", url, "--lang", "en", "status", "--json"])
    assert '"state": "ready"' in result.output


def _identity() -> DeviceIdentity:
    return DeviceIdentity("D-1", "ST-1", 1, dt.datetime(2100, 1, 1, tzinfo=dt.UTC))


def _beat_body(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "link": "fiber",
        "queue_depth": 0,
        "device_time": dt.datetime.now(dt.UTC).isoformat(),
        "software_version": "1.0.0",
        "battery": 90,
    }
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("queue_depth", 2**31, "queue_depth must be a whole number from 0 to 2147483647"),
        ("queue_depth", 2**63, "queue_depth must be a whole number from 0 to 2147483647"),
        ("queue_depth", -1, "queue_depth must be a whole number from 0 to 2147483647"),
        ("software_version", "1.0\x00", "software_version must be 1 to 64 characters, without"),
        ("software_version", "1.0\ud800", "software_version must be 1 to 64 characters, without"),
        ("device_time", "0001-01-01T00:00:00+14:00", "device_time must be an ISO 8601 time"),
    ],
)
def test_a_heartbeat_field_out_of_range_is_malformed(field: str, value: object, says: str) -> None:
    with pytest.raises(MalformedRequest, match=says):
        parse_heartbeat(_beat_body(**{field: value}), _identity(), dt.datetime.now(dt.UTC))


def _written(engine: Engine, device: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.scalar(
                sa.select(sa.func.count())
                .select_from(heartbeats)
                .where(heartbeats.c.device == device)
            )
            or 0
        )


def _plain_connection(engine: Engine) -> Any:
    """A driver connection of its own in autocommit mode, to hold locks with plain SQL."""
    if engine.dialect.name == "postgresql":
        import psycopg

        return psycopg.connect(
            engine.url.render_as_string(hide_password=False).replace("+psycopg", ""),
            autocommit=True,
        )
    return sqlite3.connect(str(engine.url.database), isolation_level=None)


def _wait_for(check: Callable[[], bool], seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def _now_beat(device: str, station: str = "ST-1", **changes: object) -> Heartbeat:
    beat = Heartbeat(device, station, "fiber", 0, 0.0, "1.0.0", 90, dt.datetime.now(dt.UTC))
    return dataclasses.replace(beat, **changes)  # type: ignore[arg-type]


def test_the_writer_drops_a_beat_the_database_refuses_and_writes_the_others(db_url: str) -> None:
    engine = open_store(db_url)
    board = HeartbeatBoard(engine, interval_s=30)
    # What parse_heartbeat no longer lets through, built directly: each fails the transaction.
    poisons = [_now_beat("P-1", queue_depth=2**63), _now_beat("P-2", queue_depth=2**31)]
    if engine.dialect.name == "postgresql":
        poisons.append(_now_beat("P-3", software_version="1.0\x00"))
    else:
        poisons.pop()  # SQLite stores 2^31 (64-bit integers)
    board.start()
    try:
        board.record(_now_beat("D-1"))
        for poison in poisons:
            board.record(poison)
        board.record(_now_beat("D-2"))
        assert _wait_for(lambda: _written(engine, "D-1") == 1 and _written(engine, "D-2") == 1)
        board.record(_now_beat("D-3"))  # and the writer is still there
        assert _wait_for(lambda: _written(engine, "D-3") == 1)
        health = board.health()
    finally:
        board.stop()
    assert health.state == "ok"
    assert health.dropped == len(poisons)
    assert health.pending == 0
    engine.dispose()


def test_the_writer_keeps_the_beats_while_a_lock_is_held_then_writes_them(db_url: str) -> None:
    engine = open_store(db_url)
    board = HeartbeatBoard(engine, interval_s=30, lock_timeout_s=0.3)
    board.start()
    holder = _plain_connection(engine)
    try:
        board.record(_now_beat("D-1"))
        assert _wait_for(lambda: _written(engine, "D-1") == 1)
        if engine.dialect.name == "postgresql":
            holder.execute("BEGIN")
            holder.execute("LOCK TABLE device_states IN ACCESS EXCLUSIVE MODE")
        else:
            holder.execute("BEGIN IMMEDIATE")  # the one write lock of the file
        board.record(_now_beat("D-2"))
        board.record(_now_beat("D-3"))
        assert _wait_for(lambda: board.health().state == "failing", 10)
        held = board.health()
        holder.execute("ROLLBACK")
    finally:
        holder.close()
    try:
        assert _wait_for(lambda: _written(engine, "D-2") == 1 and _written(engine, "D-3") == 1)
        assert _wait_for(lambda: board.health().state == "ok", 10)
    finally:
        board.stop()
    assert held.pending == 2 and held.failures >= 1
    assert held.last_error is not None
    assert board.health().dropped == 0
    engine.dispose()


def test_the_writer_survives_a_killed_postgresql_connection(pg_url: str) -> None:
    engine = open_store(pg_url)
    board = HeartbeatBoard(engine, interval_s=30)
    board.start()
    admin = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)  # outside the writer's pool
    try:
        board.record(_now_beat("D-1"))
        assert _wait_for(lambda: _written(admin, "D-1") == 1)
        with admin.connect() as conn:  # every other connection of the database: the writer's
            killed = conn.exec_driver_sql(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).scalar()
        board.record(_now_beat("D-2"))
        assert _wait_for(lambda: _written(admin, "D-2") == 1)
        health = board.health()
    finally:
        board.stop()
    assert killed and killed >= 1
    assert health.state == "ok" and health.pending == 0 and health.dropped == 0
    admin.dispose()
    engine.dispose()
