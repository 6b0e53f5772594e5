"""Areas in SQLite and PostgreSQL: import, re-import, exchanges' areas, filters by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from pollnet.areas import (
    EXCHANGE,
    AreaKind,
    area_filters,
    codes_in,
    import_areas,
    links,
    load_areas,
    read_areas,
    refresh_exchanges,
)
from pollnet.errors import NotFoundError, UserError
from pollnet.store import open_store
from pollnet.store.schema import core
from tests.areas.conftest import districts_file


def test_import_reimport_and_the_exchanges(db_url: str, counties: Path, tmp_path: Path) -> None:
    engine = open_store(db_url)
    with engine.begin() as conn:
        conn.execute(
            core.exchanges.insert(),
            [
                {"code": "EX-AZADI", "name": "Azadi", "lat": 35.6997, "lon": 51.3380,
                 "pon_ports": 16},
                {"code": "EX-REY", "name": "Rey", "lat": 35.5886, "lon": 51.4343, "pon_ports": 8},
            ],
        )  # fmt: skip
    found = read_areas(counties, kind="county")
    first = import_areas(engine, found)
    assert len(first.added) == 5 and first.exchanges.counts() == {
        "county": {"rey-county": 1, "tehran-county": 1}
    }
    assert links(engine, EXCHANGE) == {
        "EX-AZADI": {"county": "tehran-county"},
        "EX-REY": {"county": "rey-county"},
    }
    again = import_areas(engine, found)
    assert (again.added, again.changed, len(again.unchanged)) == ((), (), 5)
    # a changed name replaces the stored area, by kind and code
    renamed = read_areas(counties, kind="county")
    object.__setattr__(renamed[1], "name_fa", "تهران")
    third = import_areas(engine, renamed)
    assert third.changed == ("county:tehran-county",)
    assert load_areas(engine).get(AreaKind.COUNTY, "tehran-county").name_fa == "تهران"  # type: ignore[union-attr]

    # an exchange moved after the areas: refreshing follows it
    with engine.begin() as conn:
        conn.execute(core.exchanges.update().values(lat=35.5886, lon=51.4343))
    refresh_exchanges(engine)
    assert codes_in(engine, {AreaKind.COUNTY: "rey-county"}, EXCHANGE) == {"EX-AZADI", "EX-REY"}

    import_areas(engine, read_areas(districts_file(tmp_path / "d.geojson")))
    assert area_filters(engine, county="Rey", municipality="شهرداری تهران") == {
        AreaKind.COUNTY: "rey-county",
        AreaKind.MUNICIPALITY: "tehran",
    }
    assert area_filters(engine, education_district="۱۲") == {AreaKind.EDUCATION_DISTRICT: "12"}
    assert area_filters(engine) == {}
    with pytest.raises(NotFoundError):
        area_filters(engine, county="Karaj")
    with pytest.raises(UserError, match="more than one"):
        area_filters(engine, county="county")
