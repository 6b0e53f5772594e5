"""Benchmark: the LTE backup estimate (:func:`pollnet.coverage.lte_backup`) for a whole city.

The synthetic city of 10,000 stations and its towers (three operators, LTE, UMTS and GSM).
Baseline, measured in the same run on a sample of the stations: the plain way, a Python loop
over every station and every LTE tower with the great-circle distance and the same path loss
per pair, its results checked equal to ours on the sample. The baseline's time is scaled up to
all stations (it is linear in them).

Run: ``.venv/bin/python benchmarks/bench_coverage.py [--stations 10000] [--sample 300]``
"""

from __future__ import annotations

import argparse
import math
import time
from collections import Counter

from pollnet.coverage import RadioSettings, by_district, lte_backup
from pollnet.coverage.pathloss import uma_nlos_db
from pollnet.datasets import generate
from pollnet.model import RadioType, Station, Tower


def plain(stations: list[Station], towers: list[Tower], radio: RadioSettings) -> list[str]:
    """Each station's class, the plain way: every station against every LTE tower."""
    lte = [t for t in towers if t.radio == RadioType.LTE]
    fc = radio.frequency_mhz / 1000.0
    classes = []
    for s in stations:
        best = -math.inf
        for t in lte:
            p1, p2 = math.radians(s.lat), math.radians(t.lat)
            dp, dl = p2 - p1, math.radians(t.lon - s.lon)
            h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
            d = 2 * 6_371_008.8 * math.asin(math.sqrt(h))
            if d > radio.max_range_m:
                continue
            loss = float(uma_nlos_db(d, t.height_m, radio.device_height_m, fc))
            best = max(best, radio.eirp_per_re_dbm - loss - radio.indoor_loss_db)
        if best >= radio.good_dbm:
            classes.append("good")
        elif best >= radio.usable_dbm:
            classes.append("usable")
        else:
            classes.append("none")
    return classes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    city = generate(args.stations, 1)
    stations, towers = list(city.stations), list(city.towers)
    radio = RadioSettings()
    lte = sum(1 for t in towers if t.radio == RadioType.LTE)
    print(f"city: {len(stations):,} stations, {len(towers):,} towers ({lte:,} LTE)")

    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        backups = lte_backup(stations, towers, radio)
        times.append(time.perf_counter() - started)
    ours = min(times)
    counts = Counter(b.status for b in backups)
    single = sum(d.single for d in by_district(backups, radio))
    print(
        f"lte_backup: best {ours:.3f} s of {args.repeat} "
        f"({len(stations) / ours:,.0f} stations/s); good {counts['good']:,}, usable "
        f"{counts['usable']:,}, none {counts['none']:,}; one operator only {single:,}"
    )

    sample = stations[: args.sample]
    started = time.perf_counter()
    expected = plain(sample, towers, radio)
    theirs = (time.perf_counter() - started) * len(stations) / len(sample)
    got = [b.status for b in backups[: len(sample)]]
    mismatches = sum(1 for a, b in zip(expected, got, strict=True) if a != b)
    print(
        f"plain Python loop (every station x every LTE tower), timed on {len(sample)} stations "
        f"and scaled: {theirs:.1f} s; ratio {theirs / ours:,.0f}x; classes differing on the "
        f"sample: {mismatches} (0 expected, up to rounding at a class edge)"
    )


if __name__ == "__main__":
    main()
