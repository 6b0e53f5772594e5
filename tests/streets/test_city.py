"""The synthetic city's streets as a graph: every station snaps within its drop, reachably."""

from __future__ import annotations

import numpy as np
import pytest

from pollnet.datasets.synth import SyntheticCity, generate
from pollnet.streets import from_city, snap, split_edges


@pytest.fixture(scope="module")
def city() -> SyntheticCity:
    return generate(150, 7)


def test_graph_keeps_the_city_as_given(city: SyntheticCity) -> None:
    graph = from_city(city)
    assert graph.num_nodes == city.node_count
    assert graph.num_edges == city.edge_count  # the city has no loops or duplicates
    assert np.array_equal(graph.edge_length_m, city.edge_length_m)
    assert graph.crs == 32639
    assert graph.edge_class_name.tolist() == city.edge_highway.tolist()
    assert graph.edge_name.tolist() == city.edge_name_fa.tolist()
    assert np.array_equal(graph.edge_district, city.edge_district)


def test_stations_and_exchanges_snap_within_their_drop(city: SyntheticCity) -> None:
    graph = from_city(city)
    lon = np.array([s.lon for s in city.stations] + [x.lon for x in city.exchanges])
    lat = np.array([s.lat for s in city.stations] + [x.lat for x in city.exchanges])
    n_stations = len(city.stations)
    snaps = snap(graph, lon, lat, roots=np.arange(n_stations, lon.size))
    assert not snaps.flags.any()
    # Schools sit 12-35 m off the street (rounded to 6 decimals of a degree: ~0.1 m).
    assert snaps.drop_m.max() < 36
    split, node = split_edges(graph, snaps)
    assert split.edge_length_m.sum() == pytest.approx(graph.edge_length_m.sum(), rel=1e-12)
    labels = split.components()
    assert len(set(labels[node].tolist())) == 1
