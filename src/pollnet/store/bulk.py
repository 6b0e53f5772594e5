"""Many rows in one call, on the driver: the hot paths' inserts and ``IN`` lists.

Rows go straight to the driver's ``executemany`` (sqlite3 runs a prepared statement over them
in C; psycopg pipelines them), skipping SQLAlchemy's per-row parameter processing, which cost
more than the databases' own work at a few thousand rows a second. One multi-row ``INSERT ...
VALUES (...), (...)`` per chunk was tried on PostgreSQL and was no faster for 100,000 plain rows
(2.4-2.8 s against 2.45 s) and three times slower for the registry's stations, so it is not
used. A list of values to match becomes ``IN (?, ...)`` on SQLite and ``= ANY(%s)`` with one
array on PostgreSQL, whose statement text stays the same whatever the list's length.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection


def insert_many(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    tail: str = "",
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table``; ``tail`` follows the
    ``VALUES`` (e.g. an ``ON CONFLICT`` clause)."""
    if not rows:
        return
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    marks = ", ".join([mark] * len(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}){tail}"
    conn.exec_driver_sql(sql, [tuple(r) for r in rows])


def one_of(conn: Connection, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """A condition that ``column`` is one of ``values``, and its parameters."""
    if conn.dialect.name == "postgresql":
        return f"{column} = ANY(%s)", [list(values)]
    return f"{column} IN ({', '.join(['?'] * len(values))})", list(values)
