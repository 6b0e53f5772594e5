"""``pollnet simulate``: the scenario it draws, and a small real run over mutual TLS."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from pollnet.cli import cli
from pollnet.link.national_code import normalise_national_code
from pollnet.simulation.scenario import ScenarioSettings, make_scenario

ELECTION_DAY = dt.date(2028, 2, 25)


@settings(max_examples=30, deadline=None)
@given(
    stations=st.integers(1, 8),
    devices=st.integers(1, 3),
    voters=st.integers(1, 200),
    seed=st.integers(0, 10**6),
)
def test_the_scenario_is_well_formed(stations: int, devices: int, voters: int, seed: int) -> None:
    config = ScenarioSettings(stations, devices, voters, 10.0, ELECTION_DAY, seed=seed)
    scenario = make_scenario(config)
    assert scenario == make_scenario(config)  # the seed decides everything
    first = [a for a in scenario.arrivals if not a.repeat]
    codes = [a.voter.national_code for a in first]
    assert len(codes) == voters == len(set(codes))
    assert all(normalise_national_code(c) == c for c in codes)
    times = [a.at_s for a in scenario.arrivals]
    assert times == sorted(times) and all(0 <= t <= 10.0 for t in times)
    assert all(0 <= a.station < stations and 0 <= a.device < devices for a in scenario.arrivals)
    station_of = {a.voter.national_code: a.station for a in first}
    for repeat in (a for a in scenario.arrivals if a.repeat):
        assert repeat.station != station_of[repeat.voter.national_code]  # another station
    assert all(0 <= c.station < stations and c.start_s < c.end_s for c in scenario.cuts)
    assert len({c.station for c in scenario.cuts}) == len(scenario.cuts)


def test_duplicates_and_outages_are_injected() -> None:
    scenario = make_scenario(ScenarioSettings(3, 2, 300, 10.0, ELECTION_DAY, seed=3))
    assert scenario.repeats >= 15
    assert {c.links for c in scenario.cuts} == {"fiber", "both"}
    assert scenario.skew_s  # some devices have a skewed clock


def test_a_small_simulation_loses_nothing() -> None:
    """The command as a user runs it (its own service in a subprocess), 3 × 2 devices."""
    command = ["--lang", "en", "simulate", "--stations", "3", "--devices-per-station", "2"]
    command += ["--voters", "300", "--duration", "5", "--seed", "3", "--json"]
    done = CliRunner().invoke(cli, command)
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)  # one JSON document, nothing else on stdout
    assert report["lost"] == 0 and report["counted_twice"] == 0
    assert report["unsent"] == 0
    assert report["refused_duplicate"] > 0  # repeat voters were caught at other stations
    assert report["conflicts"] > 0  # ... or, after an outage, recorded as conflicts
    assert report["provisional"] >= report["conflicts"]
    assert report["accepted"] == report["ledger_checkins"] > 200
    assert report["refused"].get("under_age", 0) > 0
    assert report["failovers"] > 0 and report["heartbeats"] > 0
    assert 0 < report["p50_ms"] <= report["p99_ms"]
    assert report["throughput_per_s"] > 0
    for key in ("accepted", "refused_duplicate", "conflicts", "lost", "p50_ms", "p99_ms"):
        assert key in report


def test_simulate_against_a_running_service(tmp_path: Path) -> None:
    """``--url``: the devices are enrolled in that service's PKI, its database is checked;
    the devices are driven from two worker processes."""
    from pollnet.link.service import start_in_thread
    from pollnet.simulation import SimulationConfig, simulate
    from pollnet.store import open_store
    from tests.link.service_helpers import ELECTION, TODAY, make_pki, policy

    pki_dir = make_pki(tmp_path / "pki", {})
    db_url = f"sqlite:///{tmp_path / 'link.db'}"
    engine = open_store(db_url)
    service = start_in_thread(engine, pki_dir, policy(), heartbeat_seconds=1.0)
    try:
        report = simulate(
            SimulationConfig(
                stations=2,
                devices_per_station=1,
                voters=60,
                duration_s=3.0,
                url=service.url,
                pki_dir=pki_dir,
                db_url=db_url,
                election=ELECTION,
                election_date=TODAY,
                seed=5,
                workers=2,  # the stations split over two processes
            ),
            tmp_path / "work",
        )
    finally:
        service.stop()
        engine.dispose()
    assert report.lost == 0 and report.counted_twice == 0 and report.unsent == 0
    assert report.accepted > 40 and report.ledger_checkins is None
    assert report.fiber_cuts + report.outages >= 1 and report.heartbeats > 0
