"""Put a synthetic city's exchanges, towers, existing fiber and districts into the store.

Stations are not loaded here: the registry imports ``stations.csv`` (:mod:`pollnet.registry`).
Loading again replaces rows with the same codes and adds missing districts; nothing else is
touched.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from pollnet.coverage.store import tower_row
from pollnet.datasets._city import SyntheticCity
from pollnet.store.schema import core

_CHUNK = 500


def load_into(engine: Engine, city: SyntheticCity) -> dict[str, int]:
    """Write the city's districts, exchanges, towers and fiber; returns rows written per table."""
    exchanges = [
        {"code": e.code, "name": e.name, "lat": e.lat, "lon": e.lon, "pon_ports": e.pon_ports}
        | {"operator": e.operator, "county": e.county}
        for e in city.exchanges
    ]
    towers = [tower_row(t) for t in city.towers]
    fiber = [
        {
            "code": f.code,
            "owner": f.owner,
            "kind": f.kind,
            "spare_fibres": f.spare_fibres,
            "free_ducts": f.free_ducts,
            "geometry": json.dumps(
                {"type": "LineString", "coordinates": [list(c) for c in f.coords]}
            ),
        }
        for f in city.existing_fiber
    ]
    with engine.begin() as conn:
        have = {
            tuple(r)
            for r in conn.execute(sa.select(core.districts.c.kind, core.districts.c.number))
        }
        districts = [
            {"kind": d.kind.value, "number": d.number, "name": d.name}
            for d in city.districts
            if (d.kind.value, d.number) not in have
        ]
        if districts:
            conn.execute(core.districts.insert(), districts)
        _replace(conn, core.exchanges, exchanges)
        _replace(conn, core.towers, towers)
        _replace(conn, core.existing_fiber, fiber)
    return {
        "districts": len(districts),
        "exchanges": len(exchanges),
        "towers": len(towers),
        "existing_fiber": len(fiber),
    }


def _replace(conn: Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Delete the rows with these codes, then insert them."""
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        conn.execute(table.delete().where(table.c.code.in_([r["code"] for r in chunk])))
        conn.execute(table.insert(), chunk)
