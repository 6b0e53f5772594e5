"""The store opens, migrates and seeds both SQLite and PostgreSQL databases."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from pollnet.errors import UserError
from pollnet.store import create_engine, open_store
from pollnet.store.schema import core, metadata


def test_open_store_creates_every_table(db_url: str) -> None:
    engine = open_store(db_url)
    tables = set(sa.inspect(engine).get_table_names())
    assert set(metadata.tables) <= tables
    with engine.connect() as conn:
        codes = set(conn.scalars(sa.select(core.agencies.c.code)))
    assert codes == {"election_office", "telecom", "municipality", "education"}


def test_open_store_twice_is_idempotent(db_url: str) -> None:
    open_store(db_url).dispose()
    engine = open_store(db_url)
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(core.agencies)) == 4


def test_sqlite_uses_wal_and_foreign_keys(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = open_store(f"sqlite:///{tmp_path / 'sub' / 'p.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert (tmp_path / "sub" / "p.db").exists()


def test_foreign_keys_are_enforced(db_url: str) -> None:
    engine = open_store(db_url)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(core.devices.insert().values(serial="D1", station_code="NO-SUCH"))


@pytest.mark.parametrize("url", ["mysql://x@y/z", "not a url"])
def test_unsupported_url_is_a_user_error(url: str) -> None:
    with pytest.raises(UserError, match="unsupported database URL"):
        create_engine(url)


def test_unreachable_postgres_is_a_user_error() -> None:
    from tests.pgserver import free_port

    with pytest.raises(UserError, match="cannot open the database"):
        open_store(f"postgresql://nobody@127.0.0.1:{free_port()}/none?connect_timeout=2")
