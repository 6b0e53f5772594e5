"""From files to a plan on real OpenStreetMap streets (pyrosm's test.osm.pbf, a small Finnish
town; © OpenStreetMap contributors, ODbL): streets, stations, exchanges and existing fiber are
imported with the command line as a user would, and ``pollnet plan`` reuses the fiber."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import csgraph, csr_matrix

from pollnet.plan import latest_plan_id, load_plan
from pollnet.store import open_store


def test_plan_on_imported_exchanges_and_fiber(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("pyrosm")
    from pollnet import streets

    pbf = resources.files("pyrosm") / "data" / "test.osm.pbf"
    if not pbf.is_file():
        pytest.skip("pyrosm's test.osm.pbf is not installed")
    g = streets.read(str(pbf))
    lat0, lat1 = float(g.node_lat.min()), float(g.node_lat.max())
    lon0, lon1 = float(g.node_lon.min()), float(g.node_lon.max())
    (tmp_path / "pollnet.toml").write_text(
        f"[pollnet]\nbbox = [{lat0 - 0.02}, {lon0 - 0.02}, {lat1 + 0.02}, {lon1 + 0.02}]\n",
        encoding="utf-8",
    )
    assert run("--lang", "en", "streets", "import", str(pbf))[0] == 0

    labels = g.components()
    main = np.flatnonzero(labels == np.bincount(labels).argmax())
    pick = main[np.linspace(0, main.size - 1, 7).astype(int)]
    lon, lat = g.node_lon[pick].tolist(), g.node_lat[pick].tolist()
    header = "code,name,site,address,district,lat,lon,voters,devices,critical\n"
    rows = [
        f"R{i},R{i},school {i},street {i},1,{la + 0.0002!r},{lo!r},400,2,no\n"
        for i, (lo, la) in enumerate(zip(lon[1:], lat[1:], strict=True))
    ]
    (tmp_path / "stations.csv").write_text(header + "".join(rows), encoding="utf-8")
    code, out, err = run("--lang", "en", "stations", "import", "stations.csv")
    assert code == 0, err
    (tmp_path / "exchanges.csv").write_text(
        "کد مرکز,نام مرکز,اپراتور,عرض جغرافیایی,طول جغرافیایی,پورت آزاد PON\n"
        f"EX-1,Keskus,Elisa,{lat[0] + 0.0001!r},{lon[0]!r},8\n",
        encoding="utf-8",
    )
    code, out, _ = run("--lang", "en", "exchanges", "import", "exchanges.csv")
    assert (code, out.splitlines()[-1]) == (0, "Exchanges: 1 added, 0 changed, 0 unchanged.")

    # One line along the streets from the exchange to the first station, one 1 km beyond the
    # northernmost street.
    weights = csr_matrix((g.edge_length_m, (g.edge_u, g.edge_v)), shape=(g.num_nodes,) * 2)
    _, before = csgraph.dijkstra(weights, directed=False, indices=int(pick[0]),
                                 return_predecessors=True)  # fmt: skip
    path = [int(pick[1])]
    while path[-1] != pick[0]:
        path.append(int(before[path[-1]]))
    along = ", ".join(f"{float(g.node_lon[n])!r} {float(g.node_lat[n])!r}" for n in path)
    far = f"{lon0!r} {lat1 + 0.01!r}, {lon1!r} {lat1 + 0.01!r}"
    (tmp_path / "fiber.csv").write_text(
        "code,owner,kind,spare_fibres,geometry\n"
        f'F-ALONG,Elisa,duct,12,"LINESTRING ({along})"\n'
        f'F-FAR,Elisa,aerial,6,"LINESTRING ({far})"\n',
        encoding="utf-8",
    )
    code, out, err = run("--lang", "en", "fiber", "import", "fiber.csv")
    assert code == 0
    assert out.splitlines()[-1].startswith("Along the streets: 1 of 2 lines, ")
    assert err == (
        "warning: fiber.csv, row 2, column geometry: the line F-FAR runs along no street "
        "(none within 15.0 m of it): the plan cannot reuse it\n"
    )

    code, out, _ = run("--lang", "en", "plan", "--json")
    assert code == 0
    summary = json.loads(out)
    assert (summary["stations"], summary["connected"]) == (6, 6)
    engine = open_store(f"sqlite:///{tmp_path / 'cli.db'}")
    plan = load_plan(engine, latest_plan_id(engine) or "")
    reused = [t for t in plan.trenches if t.method == "existing_fiber"]
    assert reused, "the plan reuses the imported fiber along the streets"
    assert {s.exchange for s in plan.stations} == {"EX-1"}
