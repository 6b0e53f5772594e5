"""Loading a synthetic city's exchanges, towers, fiber and districts into a real store."""

from __future__ import annotations

import json

import sqlalchemy as sa

from pollnet.datasets import SyntheticCity, generate, load_into
from pollnet.store import open_store
from pollnet.store.schema import core


def _count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


def test_load_into_fills_the_tables_and_can_run_again(db_url: str) -> None:
    engine = open_store(db_url)
    city: SyntheticCity = generate(120, 9)
    written = load_into(engine, city)
    assert written == {
        "districts": 22,
        "exchanges": len(city.exchanges),
        "towers": len(city.towers),
        "existing_fiber": len(city.existing_fiber),
    }
    assert _count(engine, core.towers) == len(city.towers)
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(core.exchanges).where(core.exchanges.c.code == city.exchanges[0].code)
        ).one()
        geometry = conn.scalar(
            sa.select(core.existing_fiber.c.geometry).where(
                core.existing_fiber.c.code == city.existing_fiber[0].code
            )
        )
        kinds = set(conn.execute(sa.select(core.districts.c.kind, core.districts.c.number)))
    assert (row.lat, row.lon, row.pon_ports) == (
        city.exchanges[0].lat,
        city.exchanges[0].lon,
        city.exchanges[0].pon_ports,
    )
    assert [tuple(c) for c in json.loads(geometry)["coordinates"]] == list(
        city.existing_fiber[0].coords
    )
    assert kinds == {("municipal", n) for n in range(1, 23)}

    # Again, with another seed: same codes are replaced, districts are not doubled.
    other = generate(120, 10)
    again = load_into(engine, other)
    assert again["districts"] == 0
    assert _count(engine, core.districts) == 22
    assert _count(engine, core.exchanges) == len(other.exchanges)
    with engine.connect() as conn:
        lat = conn.scalar(
            sa.select(core.towers.c.lat).where(core.towers.c.code == other.towers[0].code)
        )
    assert lat == other.towers[0].lat
    engine.dispose()
