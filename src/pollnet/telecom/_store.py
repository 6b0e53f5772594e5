"""Exchanges and fiber lines in the database: upsert by code, read back ordered by code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

R = TypeVar("R", bound=NamedTuple)


@dataclass(frozen=True)
class Changes:
    """Codes an upsert added, changed and left unchanged, each in file order."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    unchanged: tuple[str, ...]


def upsert_by_code(conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> Changes:
    """Insert the rows whose ``code`` is new and update those that differ, in one transaction
    (the caller's); rows of ``table`` that the file does not name are left alone."""
    if not rows:
        return Changes((), (), ())
    names = list(rows[0])
    stored = {
        r["code"]: {k: r[k] for k in names}
        for r in conn.execute(sa.select(*(table.c[k] for k in names))).mappings()
    }
    added = [row for row in rows if row["code"] not in stored]
    changed = [row for row in rows if row["code"] in stored and stored[row["code"]] != row]
    if added:
        conn.execute(table.insert(), [dict(r) for r in added])
    if changed:
        update = (
            table.update()
            .where(table.c.code == sa.bindparam("b_code"))
            .values({k: sa.bindparam(f"b_{k}") for k in names if k != "code"})
        )
        conn.execute(update, [{f"b_{k}": v for k, v in r.items()} for r in changed])
    touched = {r["code"] for r in added} | {r["code"] for r in changed}
    return Changes(
        tuple(r["code"] for r in added),
        tuple(r["code"] for r in changed),
        tuple(r["code"] for r in rows if r["code"] not in touched),
    )


def select_records(
    engine: Engine, table: sa.Table, record: type[R], code: str | None = None
) -> list[R]:
    """Stored rows as ``record``s (named by their fields' columns), ordered by code; only
    ``code``'s when given."""
    query = sa.select(*(table.c[k] for k in record._fields)).order_by(table.c.code)
    if code is not None:
        query = query.where(table.c.code == code)
    with engine.connect() as conn:
        return [record(*row) for row in conn.execute(query)]
