"""Station readiness from heartbeats: the pure rule, and the board written to both backends."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from click.testing import CliRunner

from pollnet.link.heartbeat import Heartbeat, HeartbeatBoard, readiness, station_state
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
