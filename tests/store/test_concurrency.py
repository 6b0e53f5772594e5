"""Commands at the same time: the first migration of a fresh database and two imports at once
neither crash nor lose rows, on SQLite and on PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import sqlalchemy as sa

from pollnet.coverage.towers import import_towers
from pollnet.registry import import_stations
from pollnet.settings import Settings
from pollnet.store import create_engine, open_store
from pollnet.store.schema.core import agencies, stations, towers
from tests.registry.stationfiles import EN, GOOD, write_csv

_OPEN = "import sys; from pollnet.store import open_store; open_store(sys.argv[1]).dispose()"


def test_commands_on_a_fresh_database_do_not_race_its_first_migration(db_url: str) -> None:
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _OPEN, db_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in processes]
    assert [p.returncode for p in processes] == [0] * 4, outputs
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(sa.select(sa.func.count()).select_from(agencies)) == 4
    finally:
        engine.dispose()


def _rows(first: int, count: int) -> list[list[str]]:
    """``count`` good stations from code number ``first``, three to a site."""
    base = dict(zip(EN, GOOD[0], strict=True))
    return [
        list(
            {
                **base,
                "code": f"T-{n:05d}",
                "site": f"School {n // 3}",
                "address": f"St {n // 3}",
            }.values()
        )
        for n in range(first, first + count)
    ]


def test_two_imports_at_once_both_land(db_url: str, tmp_path: Path) -> None:
    engine = open_store(db_url)
    # Overlapping files: both add stations 1000-1999, each also its own.
    files = [
        write_csv(tmp_path / "a.csv", rows=_rows(0, 2000)),
        write_csv(tmp_path / "b.csv", rows=_rows(1000, 2000)),
    ]
    towers_file = tmp_path / "towers.csv"
    towers_file.write_text(
        "code,operator,radio,lat,lon\n"
        + "".join(f"MCI-{n},MCI,lte,35.70,51.40\n" for n in range(500)),
        encoding="utf-8",
    )
    start = threading.Barrier(4)
    failures: list[BaseException] = []

    def run(work: object) -> None:
        start.wait()
        try:
            work()  # type: ignore[operator]
        except BaseException as exc:
            failures.append(exc)

    bbox = Settings().bbox
    jobs = [
        *(lambda f=f: import_stations(engine, f, settings=Settings()) for f in files),
        *(lambda: import_towers(engine, towers_file, bbox) for _ in range(2)),
    ]
    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert not failures, failures
        with engine.connect() as conn:
            assert conn.scalar(sa.select(sa.func.count()).select_from(stations)) == 3000
            assert conn.scalar(sa.select(sa.func.count()).select_from(towers)) == 500
    finally:
        engine.dispose()
