"""The registry in the database: read stations with their sites, and upsert a file's records.

An upsert compares the file with every stored station in memory and writes only the difference,
with one bulk insert or update per table (``executemany``), inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pollnet.registry._records import StationRecord
from pollnet.store.schema.core import sites, stations

_COLUMNS = (
    stations.c.code,
    stations.c.name,
    sites.c.name.label("site"),
    sites.c.address,
    stations.c.district,
    sites.c.education_district,
    stations.c.lat,
    stations.c.lon,
    stations.c.voters,
    stations.c.devices,
    stations.c.critical,
)


@dataclass(frozen=True)
class Changes:
    """Station codes an upsert added, changed and left unchanged, each in file order."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    unchanged: tuple[str, ...]


def select_records(
    conn: Connection, *, code: str | None = None, district: int | None = None,
    critical: bool | None = None,
) -> list[StationRecord]:  # fmt: skip
    """Stored stations ordered by code, optionally only one code, district or criticality."""
    query = sa.select(*_COLUMNS).join(sites, stations.c.site_id == sites.c.id)
    if code is not None:
        query = query.where(stations.c.code == code)
    if district is not None:
        query = query.where(stations.c.district == district)
    if critical is not None:
        query = query.where(stations.c.critical == critical)
    return [StationRecord(*row) for row in conn.execute(query.order_by(stations.c.code))]


def upsert(conn: Connection, records: Sequence[StationRecord]) -> Changes:
    """Add new stations and update changed ones, by code; sites are matched by (name, address).

    A site takes its location and districts from the first of its stations in ``records``.
    """
    existing = {r.code: r for r in select_records(conn)}  # before the sites change
    site_ids = _upsert_sites(conn, records)
    added: list[StationRecord] = []
    changed: list[StationRecord] = []
    unchanged: list[str] = []
    for record in records:
        old = existing.get(record.code)
        if old is None:
            added.append(record)
        elif old != record:
            changed.append(record)
        else:
            unchanged.append(record.code)
    now = sa.func.current_timestamp()
    if added:
        insert = stations.insert().values(updated_at=now)
        _execute_many(conn, insert, [_station_row(r, site_ids) for r in added])
    if changed:
        update = (
            stations.update()
            .where(stations.c.code == sa.bindparam("b_code"))
            .values({**{k: sa.bindparam(f"b_{k}") for k in _STATION_FIELDS}, "updated_at": now})
        )
        _execute_many(
            conn,
            update,
            [{f"b_{k}": v for k, v in _station_row(r, site_ids).items()} for r in changed],
        )
    return Changes(tuple(r.code for r in added), tuple(r.code for r in changed), tuple(unchanged))


def _execute_many(
    conn: Connection, statement: sa.Insert | sa.Update, rows: list[dict[str, Any]]
) -> None:
    """One ``executemany`` of a Core statement over ``rows`` of plain values.

    The statement is compiled once for the connection's dialect and its rows go straight to the
    driver's ``executemany`` (sqlite3; psycopg pipelines them), inside the caller's transaction.
    SQLAlchemy's own per-row parameter processing cost more than SQLite's insert itself, and
    the values (str, int, float, bool, None) need no conversion on either driver.
    """
    compiled = statement.compile(dialect=conn.dialect, column_keys=list(rows[0]))
    if compiled.positional:
        names = compiled.positiontup or ()
        conn.exec_driver_sql(str(compiled), [tuple(row[n] for n in names) for row in rows])
    else:
        conn.exec_driver_sql(str(compiled), rows)


_STATION_FIELDS = (
    "name", "site_id", "district", "lat", "lon", "voters", "devices", "critical",
)  # fmt: skip


def _station_row(record: StationRecord, site_ids: dict[tuple[str, str], int]) -> dict[str, Any]:
    return {
        "code": record.code,
        "name": record.name,
        "site_id": site_ids[record.site, record.address],
        "district": record.district,
        "lat": record.lat,
        "lon": record.lon,
        "voters": record.voters,
        "devices": record.devices,
        "critical": record.critical,
    }


_SITE_PLACE = ("lat", "lon", "district", "education_district")


def _upsert_sites(conn: Connection, records: Sequence[StationRecord]) -> dict[tuple[str, str], int]:
    """Insert missing sites, update moved ones; return every site's id by (name, address)."""
    wanted: dict[tuple[str, str], dict[str, Any]] = {}
    for record in records:
        if record.site_key not in wanted:
            wanted[record.site_key] = {
                "name": record.site,
                "address": record.address,
                "lat": record.lat,
                "lon": record.lon,
                "district": record.district,
                "education_district": record.education_district,
            }
    stored = {
        (row.name, row.address): row
        for row in conn.execute(
            sa.select(
                sites.c.id, sites.c.name, sites.c.address, sites.c.lat, sites.c.lon,
                sites.c.district, sites.c.education_district,
            )
        )
    }  # fmt: skip
    new = [values for key, values in wanted.items() if key not in stored]
    moved = [
        {"b_id": stored[key].id, **{f"b_{k}": values[k] for k in _SITE_PLACE}}
        for key, values in wanted.items()
        if key in stored
        and tuple(getattr(stored[key], k) for k in _SITE_PLACE)
        != tuple(values[k] for k in _SITE_PLACE)
    ]
    if new:
        _execute_many(conn, sites.insert(), new)
    if moved:
        update = (
            sites.update()
            .where(sites.c.id == sa.bindparam("b_id"))
            .values({k: sa.bindparam(f"b_{k}") for k in _SITE_PLACE})
        )
        _execute_many(conn, update, moved)
    ids = {key: row.id for key, row in stored.items()}
    if new:
        query = sa.select(sites.c.id, sites.c.name, sites.c.address)
        ids.update({(row.name, row.address): row.id for row in conn.execute(query)})
    return ids
