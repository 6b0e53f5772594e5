"""Many rows in few statements, on the driver: the hot paths' inserts and ``IN`` lists.

SQLite runs a prepared single-row ``INSERT`` over the rows (``executemany`` in C). PostgreSQL
gets one multi-row ``INSERT ... VALUES (...), (...)`` per chunk instead: psycopg's
``executemany`` sends each row as its own statement, and the server's per-statement work was
what held the check-in service back with heartbeats flowing (see ``docs/performance.md``). A
list of values to match becomes ``IN (?, ...)`` on SQLite and ``= ANY(%s)`` with one array on
PostgreSQL, whose statement text stays the same whatever the list's length.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Connection

_MAX_PARAMETERS = 30_000  # per PostgreSQL statement (the protocol allows 65,535)


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
    names = ", ".join(columns)
    if conn.dialect.name != "postgresql":
        marks = ", ".join(["?"] * len(columns))
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks}){tail}"
        conn.exec_driver_sql(sql, [tuple(r) for r in rows])
        return
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    chunk = max(1, _MAX_PARAMETERS // len(columns))
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        sql = f"INSERT INTO {table} ({names}) VALUES {', '.join([one] * len(part))}{tail}"
        conn.exec_driver_sql(sql, tuple(value for row in part for value in row))


def one_of(conn: Connection, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """A condition that ``column`` is one of ``values``, and its parameters."""
    if conn.dialect.name == "postgresql":
        return f"{column} = ANY(%s)", [list(values)]
    return f"{column} IN ({', '.join(['?'] * len(values))})", list(values)
