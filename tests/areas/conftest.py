"""The real county boundaries of the Tehran electoral district, and small area files."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def shared_data() -> Path | None:
    """``../shared/data`` next to the repository (or next to the folder of its worktrees)."""
    for base in (REPO.parent, REPO.parent.parent):
        folder = base / "shared" / "data"
        if folder.is_dir():
            return folder
    return None


@pytest.fixture(scope="session")
def counties() -> Path:
    """The five counties as OpenStreetMap exported them (read-only, never copied)."""
    folder = shared_data()
    path = folder / "tehran-electoral-district" / "counties.geojson" if folder else None
    if path is None or not path.is_file():
        pytest.skip("../shared/data/tehran-electoral-district/counties.geojson is not here")
    return path


def box(lon0: float, lat0: float, lon1: float, lat1: float) -> dict[str, Any]:
    """A GeoJSON Polygon of a lon/lat box."""
    ring = [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]
    return {"type": "Polygon", "coordinates": [ring]}


def feature(geometry: Any, **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def write_areas(path: Path, features: Sequence[dict[str, Any]]) -> Path:
    document = {"type": "FeatureCollection", "features": list(features)}
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


# Municipal districts around the registry tests' stations (lon 51.389-51.392, lat 35.701-35.711)
# and the streets tests' tiny city (lon 51.400-51.4035, lat 35.698-35.702).
WEST = box(51.380, 35.690, 51.3905, 35.720)  # T-001 (51.3890) and T-002 (51.3891)
EAST = box(51.3905, 35.690, 51.410, 35.720)  # T-003 (51.3912) and the tiny city


def districts_file(path: Path) -> Path:
    """Municipal districts 6 (west) and 7 (east), and one education district over both."""
    return write_areas(
        path,
        [
            feature(WEST, kind="municipal_district", number=6, name_fa="منطقه ۶"),
            feature(EAST, kind="municipal_district", number=7, name_en="District 7"),
            feature(box(51.38, 35.69, 51.41, 35.72), kind="education_district", ref="۱۲"),
            feature(
                box(51.37, 35.68, 51.42, 35.73),
                kind="شهرداری",
                name="شهرداری تهران",
                name_en="Tehran",
                code="tehran",
            ),
        ],
    )
