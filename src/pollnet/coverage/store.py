"""The towers of the registry (I/O at the edge: the estimate itself needs no database)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pollnet.model import RadioType, Tower
from pollnet.store.schema import core


def tower_row(tower: Tower) -> dict[str, Any]:
    """The ``towers`` table row of ``tower``."""
    return {
        "code": tower.code,
        "operator": tower.operator,
        "radio": tower.radio.value,
        "lat": tower.lat,
        "lon": tower.lon,
        "height_m": tower.height_m,
    }


def read_towers(engine: Engine) -> tuple[Tower, ...]:
    """Every tower of the registry, ordered by code."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(core.towers).order_by(core.towers.c.code)).mappings()
        return tuple(
            Tower(
                r["code"], r["operator"], RadioType(r["radio"]), r["lat"], r["lon"], r["height_m"]
            )
            for r in rows
        )
