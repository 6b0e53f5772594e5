"""Import 100,000 station rows from a CSV file into a fresh SQLite database.

Prints rows/s and seconds for ``pollnet.registry.import_stations`` (read, normalise, validate,
upsert sites and stations in one transaction), then for importing the same file again (every
station compared, none written), and the baseline: a plain ``sqlite3``
``executemany`` of the same rows, already parsed, into one table. The ratio is pollnet's time over
the baseline's. Bounded: one run of each, a few seconds.

With ``--pg`` the same import also runs on a throw-away PostgreSQL server (started like the
tests start theirs), timed the same way.

Run: ``.venv/bin/python benchmarks/bench_import.py [--rows N] [--pg]``
"""

from __future__ import annotations

import argparse
import csv
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.pgserver

from pollnet.registry import COLUMNS, import_stations
from pollnet.settings import TEHRAN_BBOX, Settings
from pollnet.store import open_store

STATIONS_PER_SITE = 3


def station_rows(count: int, seed: int = 1) -> list[list[str]]:
    """``count`` valid station rows (English column order of ``COLUMNS``), inside Tehran."""
    rng = random.Random(seed)
    box = TEHRAN_BBOX
    rows = []
    for i in range(count):
        site = i // STATIONS_PER_SITE
        if i % STATIONS_PER_SITE == 0:
            lat = round(rng.uniform(box.min_lat + 0.3, box.max_lat - 0.3), 6)
            lon = round(rng.uniform(box.min_lon + 0.3, box.max_lon - 0.3), 6)
            district = rng.randint(1, 22)
            education = rng.randint(1, 19)
        rows.append(
            [
                f"T-{i + 1:06d}",
                f"شعبه {i + 1}",
                f"دبستان شماره {site + 1}",
                f"خیابان {site % 500 + 1}، پلاک {site + 1}",
                str(district),
                str(education),
                repr(lat),
                repr(lon),
                str(rng.randint(200, 2500)),
                str(rng.randint(1, 4)),
                rng.choice(("yes", "no", "no", "no")),
            ]
        )
    return rows


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([c.fa for c in COLUMNS])
        writer.writerows(rows)


def baseline(path: Path, rows: list[list[str]]) -> float:
    """Seconds for a plain sqlite3 executemany of the parsed rows into one table."""
    values = [
        (r[0], r[1], r[2], r[3], int(r[4]), int(r[5]), float(r[6]), float(r[7]), int(r[8]),
         int(r[9]), r[10] == "yes")
        for r in rows
    ]  # fmt: skip
    start = time.perf_counter()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(
        "CREATE TABLE stations (code TEXT PRIMARY KEY, name TEXT, site TEXT, address TEXT,"
        " district INTEGER, education_district INTEGER, lat REAL, lon REAL, voters INTEGER,"
        " devices INTEGER, critical BOOLEAN)"
    )
    with conn:
        conn.executemany("INSERT INTO stations VALUES (?,?,?,?,?,?,?,?,?,?,?)", values)
    conn.close()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pg", action="store_true", help="Also import into PostgreSQL.")
    args = parser.parse_args()
    count = args.rows
    with tempfile.TemporaryDirectory(prefix="pollnet-bench-") as tmp:
        folder = Path(tmp)
        rows = station_rows(count)
        source = folder / "stations.csv"
        write_csv(source, rows)
        engine = open_store(f"sqlite:///{folder / 'pollnet.db'}")
        start, cpu = time.perf_counter(), time.process_time()
        report = import_stations(engine, source, settings=Settings())
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        start = time.perf_counter()
        again = import_stations(engine, source, settings=Settings())
        reimport = time.perf_counter() - start
        engine.dispose()
        assert len(report.added) == count and len(again.unchanged) == count
        base = baseline(folder / "baseline.db", rows)
        pg = postgres(source, count) if args.pg else None
    print(f"pollnet import: {count:,} rows in {seconds:.2f} s = {count / seconds:,.0f} rows/s")
    print(f"  (of which CPU time in this process: {cpu:.2f} s)")
    print(f"pollnet re-import, all unchanged: {reimport:.2f} s = {count / reimport:,.0f} rows/s")
    print(
        f"baseline (sqlite3 executemany of parsed rows): {base:.2f} s = {count / base:,.0f} rows/s"
    )
    print(f"ratio pollnet/baseline: {seconds / base:.1f}x")
    if pg is not None:
        first, second = pg
        print(f"postgresql import: {count:,} rows in {first:.2f} s = {count / first:,.0f} rows/s")
        print(f"postgresql re-import, all unchanged: {second:.2f} s")


def postgres(source: Path, count: int) -> tuple[float, float] | None:
    """Seconds of the import and of the re-import on a throw-away PostgreSQL server."""
    from tests.pgserver import find_pg_bin, throwaway

    bin_dir = find_pg_bin()
    if bin_dir is None:
        print("postgresql: skipped (no server binaries)")
        return None
    with throwaway(bin_dir) as server:
        engine = open_store(server.create_database("bench_import"))
        start = time.perf_counter()
        report = import_stations(engine, source, settings=Settings())
        first = time.perf_counter() - start
        start = time.perf_counter()
        again = import_stations(engine, source, settings=Settings())
        second = time.perf_counter() - start
        engine.dispose()
    assert len(report.added) == count and len(again.unchanged) == count
    return first, second


if __name__ == "__main__":
    main()
