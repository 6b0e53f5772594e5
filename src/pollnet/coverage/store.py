"""The towers of the registry (I/O at the edge: the estimate itself needs no database)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pollnet.errors import NotFoundError
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


def read_towers(engine: Engine, *, required: bool = False) -> tuple[Tower, ...]:
    """Every tower of the registry, ordered by code.

    With ``required``, no towers at all is a :class:`NotFoundError` saying how to import them
    (an estimate from no towers would call every station "no LTE tower within range").
    """
    towers = _read_towers(engine)
    if required and not towers:
        raise NotFoundError.of(
            "no towers imported: run pollnet towers import FILE first (the operators' towers "
            "or an OpenCelliD export)"
        )
    return towers


def _read_towers(engine: Engine) -> tuple[Tower, ...]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(core.towers).order_by(core.towers.c.code)).mappings()
        return tuple(
            Tower(
                r["code"], r["operator"], RadioType(r["radio"]), r["lat"], r["lon"], r["height_m"]
            )
            for r in rows
        )
