"""The scenario of an election-day simulation, drawn from a seed: voters, arrivals, cuts, skew.

Pure: no network, no clock. Times are seconds from the start of the run; the polling day is
compressed into ``duration_s`` seconds with a morning and an evening peak of arrivals.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass

from pollnet.i18n.dates import to_jalali
from pollnet.link.client import Voter
from pollnet.link.national_code import check_digit, normalise_national_code

# Arrivals end before the run does, so the last replays fit in the same duration.
ARRIVALS_END = 0.85
BAD_SKEW_S = 900.0  # beyond the service's tolerance (300 s by default)


@dataclass(frozen=True)
class ScenarioSettings:
    """The knobs of a scenario; shares are fractions (0..1) of voters, stations or devices."""

    stations: int
    devices_per_station: int
    voters: int
    duration_s: float
    election_date: dt.date
    seed: int = 1
    duplicate_share: float = 0.05
    under_age_share: float = 0.03
    failed_verification_share: float = 0.01
    fiber_cut_share: float = 0.34
    outage_share: float = 0.2
    skewed_device_share: float = 0.1


@dataclass(frozen=True)
class Arrival:
    """A voter at a device at ``at_s``; ``repeat`` marks an attempt to vote a second time."""

    at_s: float
    station: int
    device: int
    voter: Voter
    repeat: bool = False


@dataclass(frozen=True)
class Cut:
    """A cut at ``station`` from ``start_s`` to ``end_s`` of ``fiber`` only or ``both`` links."""

    station: int
    links: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Scenario:
    """Everything that will happen in a run, in time order."""

    arrivals: tuple[Arrival, ...]
    cuts: tuple[Cut, ...]
    skew_s: dict[tuple[int, int], float]

    @property
    def repeats(self) -> int:
        return sum(1 for a in self.arrivals if a.repeat)


def national_codes(rng: random.Random, count: int) -> list[str]:
    """``count`` distinct valid national codes (correct check digit, never all one digit)."""
    codes: set[str] = set()
    while len(codes) < count:
        first = f"{rng.randrange(10**9):09d}"
        code = first + str(check_digit(first))
        if normalise_national_code(code) is not None:
            codes.add(code)
    return sorted(codes, key=lambda _c: rng.random())


def make_scenario(settings: ScenarioSettings) -> Scenario:
    """Draw the scenario of ``settings`` (the same seed gives the same scenario)."""
    rng = random.Random(settings.seed)
    n_stations, n_devices = settings.stations, settings.devices_per_station
    span = settings.duration_s * ARRIVALS_END
    cuts = _cuts(rng, settings)
    voters = [_voter(rng, code, settings) for code in national_codes(rng, settings.voters)]
    first = [(_arrival_time(rng) * span, rng.randrange(n_stations), v) for v in voters]

    repeats: list[tuple[float, int, Voter]] = []
    # Voters caught by an outage at their station also try elsewhere during it: conflicts.
    for cut in (c for c in cuts if c.links == "both" and n_stations > 1):
        caught = [f for f in first if f[1] == cut.station and cut.start_s <= f[0] < cut.end_s]
        for at, station, voter in caught[: max(1, len(caught) // 5)]:
            other = _other(rng, station, n_stations)
            repeats.append((rng.uniform(at, cut.end_s), other, voter))
    wanted = round(settings.voters * settings.duplicate_share)
    for at, station, voter in rng.sample(first, min(wanted, len(first)) if n_stations > 1 else 0):
        when = min(span, at + rng.uniform(0.02, 0.2) * settings.duration_s)
        repeats.append((when, _other(rng, station, n_stations), voter))

    events = sorted(
        [(at, s, v, False) for at, s, v in first] + [(at, s, v, True) for at, s, v in repeats],
        key=lambda e: e[0],
    )
    turn = [0] * n_stations
    arrivals = []
    for at, station, voter, repeat in events:
        device = turn[station] % n_devices
        turn[station] += 1
        arrivals.append(Arrival(at, station, device, voter, repeat))

    devices = [(s, d) for s in range(n_stations) for d in range(n_devices)]
    skewed = rng.sample(devices, math.ceil(len(devices) * settings.skewed_device_share))
    skew = {dev: rng.choice((-1, 1)) * rng.uniform(20, 120) for dev in skewed}
    if len(devices) >= 6:
        skew[skewed[0]] = BAD_SKEW_S
    return Scenario(tuple(arrivals), tuple(cuts), skew)


def _cuts(rng: random.Random, settings: ScenarioSettings) -> list[Cut]:
    n = settings.stations
    duration = settings.duration_s
    order = rng.sample(range(n), n)
    n_outages = math.floor(n * settings.outage_share) or (1 if n >= 3 else 0)
    n_fiber = min(n - n_outages, math.ceil(n * settings.fiber_cut_share))
    cuts = []
    for station in order[:n_outages]:
        start = rng.uniform(0.15, 0.45) * duration
        cuts.append(Cut(station, "both", start, start + rng.uniform(0.1, 0.2) * duration))
    for station in order[n_outages : n_outages + n_fiber]:
        start = rng.uniform(0.1, 0.55) * duration
        cuts.append(Cut(station, "fiber", start, start + rng.uniform(0.1, 0.25) * duration))
    return sorted(cuts, key=lambda c: c.start_s)


def _arrival_time(rng: random.Random) -> float:
    """A time of day in 0..1: a morning peak, an evening peak and a steady trickle."""
    pick = rng.random()
    if pick < 0.4:
        value = rng.gauss(0.2, 0.1)
    elif pick < 0.8:
        value = rng.gauss(0.75, 0.1)
    else:
        value = rng.random()
    return min(max(value, 0.0), 1.0)


def _voter(rng: random.Random, code: str, settings: ScenarioSettings) -> Voter:
    day = settings.election_date
    if rng.random() < settings.under_age_share:
        age_days = rng.uniform(14, 17.9) * 365.25
    else:
        age_days = rng.uniform(18.1, 90) * 365.25
    born = day - dt.timedelta(days=int(age_days))
    birth = to_jalali(born) if rng.random() < 0.5 else born.isoformat()
    verified = rng.random() >= settings.failed_verification_share
    score = round(rng.uniform(0.65, 0.99) if verified else rng.uniform(0.1, 0.5), 3)
    return Voter(code, birth, True, score)


def _other(rng: random.Random, station: int, n_stations: int) -> int:
    return (station + rng.randrange(1, n_stations)) % n_stations
