"""Benchmark: ``pollnet streets import`` of a city-size OpenStreetMap PBF.

The Tehran province cut of the Iran extract is a PBF of a few hundred MB. This script writes a
street-like city of the same order with pyosmium (cached in the temp directory, so only the
first run pays for it) and times the real command on it:

- the city: a jittered grid of intersections about 80 m apart (the default 700 x 700 spans
  56 km), shape nodes along every block, streets cut into ways of one to four blocks,
  ``trunk``/``primary``/``secondary``/``tertiary`` every few rows and columns and
  ``residential`` between, gaps (dead ends), ``footway`` and ``pedestrian`` paths across some
  blocks, ``service`` spurs into others, a building in most blocks (ways without ``highway``),
  Persian names (``name``) on every street and English ones (``name:en``) on the major ones;
- ours: ``pollnet streets import CITY --out streets.npz`` in a fresh process (Python start,
  reading, splitting, projection, checks, writing the cache), wall time and peak RSS;
- baseline *plain pyosmium reading*: a fresh process that reads the same file with
  ``osmium.FileProcessor(...).with_locations()`` filtered to ``highway`` ways, and touches every
  node location of every highway way (summing them) - the floor any importer built on pyosmium
  pays before it does any work of its own.

Targets (issue 9): at most 60 s and 4 GiB peak RSS.

Run: ``.venv/bin/python benchmarks/bench_osm_city.py [--side 700] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import osmium
from osmium.osm.mutable import Node, Way

VERSION = 1
"""Bump when the generated city changes, so a cached file of the old shape is not reused."""

ORIGIN_LON, ORIGIN_LAT = 51.10, 35.55
"""South-west corner of the generated city (degrees; the grid spreads north-east over Tehran)."""
SPACING_M = 80.0
M_PER_DEG_LAT = 111_320.0

STREET_WORDS = (
    "آزادی",
    "انقلاب",
    "ولیعصر",
    "شریعتی",
    "بهشتی",
    "مطهری",
    "طالقانی",
    "جمهوری",
    "کارگر",
    "نواب",
    "ستارخان",
    "پاسداران",
    "فاطمی",
    "کریمخان",
    "دماوند",
    "پیروزی",
    "هفت تیر",
    "مفتح",
    "سعدی",
    "حافظ",
    "فردوسی",
    "خیام",
    "نیایش",
    "گاندی",
    "ظفر",
    "میرداماد",
    "جردن",
    "ونک",
    "نارمک",
    "تهرانپارس",
)
STREET_WORDS_EN = (
    "Azadi",
    "Enghelab",
    "Valiasr",
    "Shariati",
    "Beheshti",
    "Motahari",
    "Taleghani",
    "Jomhouri",
    "Kargar",
    "Navvab",
    "Sattarkhan",
    "Pasdaran",
    "Fatemi",
    "Karimkhan",
    "Damavand",
    "Piroozi",
    "Haft-e Tir",
    "Mofatteh",
    "Saadi",
    "Hafez",
    "Ferdowsi",
    "Khayyam",
    "Niayesh",
    "Gandhi",
    "Zafar",
    "Mirdamad",
    "Jordan",
    "Vanak",
    "Narmak",
    "Tehranpars",
)
PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@dataclass(frozen=True)
class City:
    """What was written: counts of the generated file."""

    path: Path
    nodes: int
    ways: int
    highway_ways: int
    megabytes: float


def street_class(line: int) -> str:
    """The class of the ``line``-th row or column of the grid: a hierarchy of through roads."""
    if line % 40 == 0:
        return "trunk"
    if line % 20 == 0:
        return "primary"
    if line % 10 == 0:
        return "secondary"
    if line % 5 == 0:
        return "tertiary"
    return "residential"


def street_tags(line: int, horizontal: bool, piece: int) -> dict[str, str]:
    """Tags of one way of a grid line: class, Persian name, English name on major streets."""
    kind = street_class(line)
    word = STREET_WORDS[(line * 7 + (0 if horizontal else 3)) % len(STREET_WORDS)]
    if kind == "residential":
        name = f"کوچه {word} {str(line % 97 + 1).translate(PERSIAN_DIGITS)}"
    else:
        name = f"{'بلوار' if kind == 'trunk' else 'خیابان'} {word}"
    tags = {"highway": kind, "name": name}
    if kind != "residential":
        english = STREET_WORDS_EN[(line * 7 + (0 if horizontal else 3)) % len(STREET_WORDS_EN)]
        tags["name:en"] = f"{english} {'Boulevard' if kind == 'trunk' else 'Street'}"
        tags["lanes"] = "4" if kind in ("trunk", "primary") else "2"
    if kind == "residential" and piece % 3 == 0:
        tags["oneway"] = "yes"
    tags["surface"] = "asphalt"
    return tags


def write_city(path: Path, side: int, seed: int = 9) -> City:
    """Write the generated city to ``path`` (PBF): nodes in id order, then ways."""
    rng = np.random.default_rng(seed)
    lat_step = SPACING_M / M_PER_DEG_LAT
    lon_step = SPACING_M / (M_PER_DEG_LAT * np.cos(np.radians(ORIGIN_LAT)))
    jj, ii = np.meshgrid(np.arange(side), np.arange(side))
    inter_lon = ORIGIN_LON + (jj + rng.uniform(-0.1, 0.1, jj.shape)) * lon_step
    inter_lat = ORIGIN_LAT + (ii + rng.uniform(-0.1, 0.1, ii.shape)) * lat_step
    inter_id = 1 + np.arange(side * side).reshape(side, side)

    lon: list[np.ndarray] = [inter_lon.ravel()]
    lat: list[np.ndarray] = [inter_lat.ravel()]
    next_id = side * side + 1

    def new_nodes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        nonlocal next_id
        ids = np.arange(next_id, next_id + x.size)
        next_id += x.size
        lon.append(x)
        lat.append(y)
        return ids

    # Shape nodes along every block: 0-3 per block, bowed slightly off the straight line.
    blocks: dict[bool, list[list[list[int]]]] = {}
    for horizontal in (True, False):
        a_lon = inter_lon if horizontal else inter_lon.T
        a_lat = inter_lat if horizontal else inter_lat.T
        a_id = inter_id if horizontal else inter_id.T
        count = rng.integers(0, 4, size=(side, side - 1)).ravel()
        block = np.repeat(np.arange(count.size), count)
        first = np.concatenate([[0], np.cumsum(count)[:-1]])
        t = (np.arange(block.size) - first[block] + 1) / (count[block] + 1)
        r, c = np.divmod(block, side - 1)
        x = a_lon[r, c] + t * (a_lon[r, c + 1] - a_lon[r, c])
        y = a_lat[r, c] + t * (a_lat[r, c + 1] - a_lat[r, c])
        bow = rng.normal(0.0, 2.0e-5, block.size)
        x, y = (x, y + bow) if horizontal else (x + bow, y)
        ids = new_nodes(x, y)
        start = (ids[0] + first).tolist()
        ends = a_id.tolist()
        counts = count.tolist()
        rows: list[list[list[int]]] = []
        for rr in range(side):
            row: list[list[int]] = []
            for cc in range(side - 1):
                b = rr * (side - 1) + cc
                row.append([ends[rr][cc], *range(start[b], start[b] + counts[b]), ends[rr][cc + 1]])
            rows.append(row)
        blocks[horizontal] = rows

    ways: list[tuple[list[int], dict[str, str]]] = []
    for horizontal in (True, False):
        for r, row in enumerate(blocks[horizontal]):
            c = 0
            piece = 0
            while c < side - 1:
                length = int(rng.integers(1, 5))
                if street_class(r) == "residential" and rng.random() < 0.03:
                    c += 1  # a gap: the street stops and starts again one block on
                    continue
                refs: list[int] = []
                for block in row[c : c + length]:
                    refs.extend(block if not refs else block[1:])
                ways.append((refs, street_tags(r, horizontal, piece)))
                c += length
                piece += 1

    # Inside the blocks: footways across some, service spurs into others, a building in most.
    cell_lon = (inter_lon[:-1, :-1] + inter_lon[1:, 1:]) / 2
    cell_lat = (inter_lat[:-1, :-1] + inter_lat[1:, 1:]) / 2
    kind = rng.random(cell_lon.shape)
    cells = np.argwhere(kind < 0.20)
    mid = new_nodes(cell_lon[kind < 0.20], cell_lat[kind < 0.20])
    for (r, c), m in zip(cells, mid, strict=True):
        path_kind = "pedestrian" if (r + c) % 9 == 0 else "footway"
        tags = {"highway": path_kind}
        if path_kind == "pedestrian":
            tags["name"] = f"پیاده‌راه {STREET_WORDS[(r + c) % len(STREET_WORDS)]}"
        ways.append(([int(inter_id[r, c]), int(m), int(inter_id[r + 1, c + 1])], tags))
    spur = (kind >= 0.20) & (kind < 0.30)
    cells = np.argwhere(spur)
    ends = new_nodes(cell_lon[spur], cell_lat[spur])
    for (r, c), m in zip(cells, ends, strict=True):
        ways.append(([int(inter_id[r, c]), int(m)], {"highway": "service", "service": "alley"}))
    built = kind >= 0.40
    half_lon, half_lat = lon_step * 0.25, lat_step * 0.25
    bx, by = cell_lon[built], cell_lat[built]
    corners = [
        new_nodes(bx + dx * half_lon, by + dy * half_lat)
        for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1))
    ]
    for a, b, c, d in zip(*corners, strict=True):
        ways.append(([int(a), int(b), int(c), int(d), int(a)], {"building": "yes"}))

    all_lon = np.concatenate(lon).tolist()
    all_lat = np.concatenate(lat).tolist()
    partial = path.with_name(path.name + ".partial.osm.pbf")
    partial.unlink(missing_ok=True)
    with osmium.SimpleWriter(str(partial)) as writer:
        for k, (x, y) in enumerate(zip(all_lon, all_lat, strict=True), start=1):
            writer.add_node(Node(id=k, location=(x, y), version=1))
        for k, (refs, tags) in enumerate(ways, start=1):
            writer.add_way(Way(id=k, nodes=refs, tags=tags, version=1))
    partial.replace(path)
    highway = sum(1 for _, tags in ways if "highway" in tags)
    return City(path, len(all_lon), len(ways), highway, path.stat().st_size / 2**20)


def city(side: int) -> tuple[City, float | None]:
    """The cached city of this ``side``, written first when missing; and the seconds that took."""
    folder = Path(tempfile.gettempdir()) / "pollnet-bench-osm"
    folder.mkdir(exist_ok=True)
    path = folder / f"city-{side}-v{VERSION}.osm.pbf"
    counts = path.with_suffix(".json")
    if path.is_file() and counts.is_file():
        return City(path=path, **json.loads(counts.read_text())), None
    started = time.perf_counter()
    written = write_city(path, side)
    elapsed = time.perf_counter() - started
    counts.write_text(
        json.dumps(
            {
                "nodes": written.nodes,
                "ways": written.ways,
                "highway_ways": written.highway_ways,
                "megabytes": written.megabytes,
            }
        )
    )
    return written, elapsed


def plain_pyosmium(path: str) -> None:
    """The baseline, run in its own process: read the highway ways with node locations."""
    processor = (
        osmium.FileProcessor(path, osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    ways = nodes = 0
    total = 0.0
    for way in processor:
        ways += 1
        for node in way.nodes:
            location = node.location
            total += location.x + location.y
            nodes += 1
    print(json.dumps({"ways": ways, "nodes": nodes, "checksum": total}))


@dataclass(frozen=True)
class Run:
    """One process: wall and CPU (user + system) seconds, peak RSS in MiB, standard output."""

    wall: float
    cpu: float
    rss: float
    out: str


def run(command: list[str]) -> Run:
    """Run ``command`` in a fresh process and measure it."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    out = process.stdout.read().decode()
    err = process.stderr.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({process.returncode}):\n{err}")
    return Run(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=700, help="intersections per grid side")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, the median is shown")
    parser.add_argument("--baseline-only", metavar="FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_only:
        plain_pyosmium(args.baseline_only)
        return

    made, seconds = city(args.side)
    note = f"written in {seconds:.1f} s" if seconds is not None else "cached"
    print(f"city                  {made.path} ({made.megabytes:.0f} MB, {note})")
    print(
        f"  OSM objects         {made.nodes:,} nodes, {made.ways:,} ways "
        f"({made.highway_ways:,} with highway)"
    )
    pollnet = str(Path(sys.executable).with_name("pollnet"))
    ours: list[Run] = []
    base: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "streets.npz"
        command = [pollnet, "--lang", "en", "streets", "import", str(made.path), "--out", str(out)]
        for _ in range(args.repeat):
            ours.append(run([*command, "--json"]))
            base.append(run([sys.executable, __file__, "--baseline-only", str(made.path)]))
        cache_mb = out.stat().st_size / 2**20
    summary = json.loads(ours[-1].out)
    read = json.loads(base[-1].out)
    print(
        f"graph                 {summary['nodes']:,} nodes, {summary['edges']:,} edges, "
        f"{summary['length_km']:,.0f} km, {summary['components']:,} components; "
        f"cache {cache_mb:.0f} MiB"
    )
    print(f"  (median of {args.repeat} runs each, every run a fresh process)")
    print(f"pollnet streets import          {describe(ours)}")
    print(f"baseline: plain pyosmium read   {describe(base)}")
    print(f"  ({read['ways']:,} highway ways, {read['nodes']:,} node references)")
    t_ours, t_base = median(ours, "wall"), median(base, "wall")
    c_ours, c_base = median(ours, "cpu"), median(base, "cpu")
    rss_ours, rss_base = max(r.rss for r in ours), max(r.rss for r in base)
    print(
        f"ratio ours / baseline  wall {t_ours / t_base:.2f}x, CPU {c_ours / c_base:.2f}x, "
        f"memory {rss_ours / rss_base:.2f}x"
    )
    verdict = "met" if t_ours <= 60 and rss_ours <= 4096 else "MISSED"
    print(f"target <= 60 s wall and <= 4,096 MiB: {verdict}")


def median(runs: list[Run], field: str) -> float:
    return float(statistics.median(getattr(r, field) for r in runs))


def describe(runs: list[Run]) -> str:
    return (
        f"wall {median(runs, 'wall'):5.1f} s, CPU {median(runs, 'cpu'):5.1f} s, "
        f"peak RSS {max(r.rss for r in runs):,.0f} MiB"
    )


if __name__ == "__main__":
    main()
