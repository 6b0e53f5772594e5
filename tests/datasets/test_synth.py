"""The generator: determinism, the street network's structure, and what sits on it."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from pollnet.datasets import CRS, HIGHWAY_CLASSES, STAGES, SyntheticCity, generate, summary
from pollnet.errors import UserError
from pollnet.model import RadioType
from pollnet.settings import TEHRAN_BBOX, BoundingBox


def _components(city: SyntheticCity) -> np.ndarray:
    n = city.node_count
    graph = coo_matrix((np.ones(city.edge_count), (city.edge_u, city.edge_v)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _degree(city: SyntheticCity) -> np.ndarray:
    return np.bincount(np.concatenate([city.edge_u, city.edge_v]), minlength=city.node_count)


def check_invariants(city: SyntheticCity, stations: int) -> None:
    """What every generated city satisfies, whatever its size and seed."""
    n, m = city.node_count, city.edge_count
    assert all(a.shape == (n,) for a in (city.node_x, city.node_y, city.node_lon, city.node_lat))
    assert all(a.shape == (m,) for a in (city.edge_v, city.edge_length_m, city.edge_class))
    box = TEHRAN_BBOX
    assert (city.node_lat >= box.min_lat).all() and (city.node_lat <= box.max_lat).all()
    assert (city.node_lon >= box.min_lon).all() and (city.node_lon <= box.max_lon).all()
    assert (city.edge_length_m > 0).all()
    assert (city.edge_u != city.edge_v).all()
    assert city.edge_u.min() >= 0 and max(city.edge_u.max(), city.edge_v.max()) < n
    lo = np.minimum(city.edge_u, city.edge_v).astype(np.int64)
    hi = np.maximum(city.edge_u, city.edge_v).astype(np.int64)
    assert np.unique(lo * n + hi).size == m, "duplicate edges"
    assert (_degree(city) > 0).all(), "isolated nodes"
    assert set(np.unique(city.edge_district).tolist()) == set(range(1, 23))
    assert set(np.unique(city.edge_class).tolist()) <= set(range(len(HIGHWAY_CLASSES)))
    assert (_degree(city) == 1).sum() > 0, "no dead ends"
    labels = _components(city)
    assert np.bincount(labels).max() >= 0.9 * n

    assert len(city.stations) == stations
    assert len({s.code for s in city.stations}) == stations
    assert all(re.fullmatch(r"T-\d{5,}", s.code) for s in city.stations)
    assert all(300 <= s.voters <= 1500 and 1 <= s.devices <= 3 for s in city.stations)
    assert all(1 <= s.district <= 22 for s in city.stations)
    per_site: dict[str, int] = {}
    for s in city.stations:
        per_site[s.site] = per_site.get(s.site, 0) + 1
    assert set(per_site) == {site.name for site in city.sites}
    assert all(1 <= k <= 4 for k in per_site.values())
    assert len(city.exchanges) == max(2, round(stations / 200))
    main = np.bincount(labels).argmax()
    assert (labels[city.station_node] == main).all()
    assert (labels[city.exchange_node] == main).all()
    for thing in (*city.stations, *city.exchanges, *city.towers):
        assert box.contains(thing.lat, thing.lon)


@pytest.mark.parametrize("stations", [1, 400])
def test_same_seed_gives_identical_arrays(stations: int) -> None:
    a, b = generate(stations, 5), generate(stations, 5)
    assert a.equals(b)
    for name, array in a.arrays().items():
        assert array.tobytes() == b.arrays()[name].tobytes(), name


def test_different_seeds_give_different_cities() -> None:
    a, b = generate(100, 1), generate(100, 2)
    assert not a.equals(b)
    assert a.node_count != b.node_count or not np.array_equal(a.node_x, b.node_x)
    assert [s.lat for s in a.stations] != [s.lat for s in b.stations]


def test_invariants_of_a_mid_sized_city(city: SyntheticCity) -> None:
    check_invariants(city, 400)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stations=st.integers(1, 150), seed=st.integers(0, 2**32 - 1))
def test_invariants_hold_for_any_small_city(stations: int, seed: int) -> None:
    check_invariants(generate(stations, seed), stations)


def test_the_network_has_a_believable_structure(city: SyntheticCity) -> None:
    counts = np.bincount(city.edge_class, minlength=len(HIGHWAY_CLASSES))
    assert (counts > 0).all(), dict(zip(HIGHWAY_CLASSES, counts.tolist(), strict=True))
    # Mostly local streets; junctions of three and four ways; a few percent dead ends.
    assert counts[HIGHWAY_CLASSES.index("residential")] > 0.5 * city.edge_count
    degree = np.bincount(_degree(city), minlength=5)
    assert degree[3] > 0 and degree[4] > 0
    assert 0.01 < degree[1] / city.node_count < 0.15
    # Blocks differ in size: street stretches between junctions are not all one length.
    stretch = _stretch_lengths(city)
    assert np.percentile(stretch, 90) > 2.5 * np.percentile(stretch, 10)


def _stretch_lengths(city: SyntheticCity) -> np.ndarray:
    """Lengths of the stretches of street between nodes that are not simple bends (degree 2)."""
    n, u, v = city.node_count, city.edge_u, city.edge_v
    inner = _degree(city) == 2
    both = inner[u] & inner[v]
    graph = coo_matrix((np.ones(both.sum()), (u[both], v[both])), shape=(n, n))
    label = connected_components(graph, directed=False)[1]
    chain = np.where(inner[u], label[u], np.where(inner[v], label[v], n + np.arange(u.size)))
    _, index = np.unique(chain, return_inverse=True)
    return np.bincount(index, weights=city.edge_length_m)


def test_metres_and_degrees_are_the_same_points(city: SyntheticCity) -> None:
    to_utm = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    x, y = to_utm.transform(city.node_lon, city.node_lat)
    assert np.abs(x - city.node_x).max() < 1e-3 and np.abs(y - city.node_y).max() < 1e-3
    u, v = city.edge_u, city.edge_v
    expected = np.hypot(city.node_x[u] - city.node_x[v], city.node_y[u] - city.node_y[v])
    assert np.allclose(city.edge_length_m, expected)


def test_names_and_classes_read_as_strings(city: SyntheticCity) -> None:
    assert set(city.edge_highway.tolist()) <= set(HIGHWAY_CLASSES)
    fa, en = city.edge_name_fa, city.edge_name_en
    assert fa.shape == en.shape == (city.edge_count,)
    k = int(np.flatnonzero(city.edge_class == HIGHWAY_CLASSES.index("residential"))[0])
    assert re.fullmatch(r"کوچه [۰-۹]+", fa[k]) and re.fullmatch(r"Alley \d+", en[k])
    # One street, one number: the Persian and English names agree.
    digits = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")
    assert all(
        a.translate(digits).split()[-1] == b.split()[-1]
        for a, b in zip(city.street_names_fa, city.street_names_en, strict=True)
    )
    assert len(set(city.street_names_en)) == len(city.street_names_en)


def test_stations_sit_by_their_street_node(city: SyntheticCity) -> None:
    to_utm = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    lat = np.array([s.lat for s in city.stations])
    lon = np.array([s.lon for s in city.stations])
    x, y = to_utm.transform(lon, lat)
    gap = np.hypot(x - city.node_x[city.station_node], y - city.node_y[city.station_node])
    assert gap.min() > 10 and gap.max() < 36
    district = np.array([s.district for s in city.stations])
    assert (district == city.node_district[city.station_node]).all()


def test_exchanges_are_spread_out(city: SyntheticCity) -> None:
    big = generate(2000, 3)
    x, y = big.node_x[big.exchange_node], big.node_y[big.exchange_node]
    gaps = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    np.fill_diagonal(gaps, np.inf)
    assert len(big.exchanges) == 10
    # Ten exchanges over a city about 16 x 10 km: none closer than 1.5 km to another.
    assert gaps.min() > 1500
    assert all(e.pon_ports in (16, 32, 64) for e in big.exchanges)
    assert 0.05 < sum(s.critical for s in big.stations) / 2000 < 0.15


def test_towers_and_fiber(city: SyntheticCity) -> None:
    assert {t.operator for t in city.towers} == {"MCI", "Irancell", "Rightel"}
    assert {t.radio for t in city.towers} == {RadioType.LTE, RadioType.UMTS, RadioType.GSM}
    assert all(15 <= t.height_m <= 45 for t in city.towers)
    assert len({t.code for t in city.towers}) == len(city.towers)
    assert len(city.existing_fiber) >= 2
    on_arterial = np.isin(city.edge_class, [1, 2])  # trunk, primary
    arterial_nodes = set(np.concatenate([city.edge_u[on_arterial], city.edge_v[on_arterial]]))
    points = {(round(a, 6), round(b, 6)) for a, b in zip(city.node_lon, city.node_lat, strict=True)}
    node_at = {
        (round(a, 6), round(b, 6)): k
        for k, (a, b) in enumerate(zip(city.node_lon, city.node_lat, strict=True))
    }
    for line in city.existing_fiber:
        assert len(line.coords) >= 2
        assert all(c in points and node_at[c] in arterial_nodes for c in line.coords)


def test_districts_are_the_22_municipal_ones(city: SyntheticCity) -> None:
    assert [d.number for d in city.districts] == list(range(1, 23))
    # Like Tehran: district 1 lies north-east of district 20, 22 west of 4.
    mean = {k: city.node_y[city.node_district == k].mean() for k in (1, 20)}
    assert mean[1] > mean[20]
    west = {k: city.node_x[city.node_district == k].mean() for k in (22, 4)}
    assert west[22] < west[4]


def test_arrays_cannot_be_changed(city: SyntheticCity) -> None:
    with pytest.raises(ValueError):
        city.node_x[0] = 0.0


def test_stages_are_reported_in_order() -> None:
    seen: list[str] = []
    generate(10, 1, on_stage=seen.append)
    assert tuple(seen) == STAGES


def test_summary_counts(city: SyntheticCity) -> None:
    result = summary(city)
    assert result["stations"] == 400 and result["nodes"] == city.node_count
    assert result["districts"] == 22 and result["dead_ends"] > 0
    assert result["main_component_share"] >= 0.9
    assert result["street_km"] == pytest.approx(city.edge_length_m.sum() / 1000, abs=0.1)


@pytest.mark.parametrize(
    ("stations", "seed", "message"),
    [(0, 1, "at least 1"), (5, -1, "must not be negative")],
)
def test_bad_arguments_are_user_errors(stations: int, seed: int, message: str) -> None:
    with pytest.raises(UserError, match=message):
        generate(stations, seed)


def test_a_city_that_does_not_fit_the_box_is_refused() -> None:
    small = BoundingBox(35.69, 51.39, 35.71, 51.41)
    with pytest.raises(UserError, match="does not fit"):
        generate(50, 1, bbox=small)
