"""The store opens, migrates and seeds both SQLite and PostgreSQL databases."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from pollnet.errors import UserError
from pollnet.store import create_engine, open_store
from pollnet.store.engine import multi_host_url
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


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql://postgres@10.0.0.1:5432,10.0.0.2:5432,10.0.0.3:5432/pollnet"
            "?target_session_attrs=read-write",
            "postgresql://postgres@/pollnet?host=10.0.0.1:5432&host=10.0.0.2:5432"
            "&host=10.0.0.3:5432&target_session_attrs=read-write",
        ),
        (
            "postgresql+psycopg://u:secret@a:1,b:2/db",
            "postgresql+psycopg://u:secret@/db?host=a:1&host=b:2",
        ),
        ("postgresql://u@h:5432/db", "postgresql://u@h:5432/db"),
        ("sqlite:///pollnet-demo/pollnet.db", "sqlite:///pollnet-demo/pollnet.db"),
    ],
)
def test_a_host_list_becomes_the_form_sqlalchemy_reads(url: str, expected: str) -> None:
    assert multi_host_url(url) == expected


def test_a_multi_host_engine_asks_libpq_for_every_host_and_the_primary() -> None:
    engine = create_engine(
        "postgresql://u@10.0.0.1:5432,10.0.0.2:5433/db?target_session_attrs=read-write"
    )
    _args, params = engine.dialect.create_connect_args(engine.url)
    assert (params["host"], params["port"]) == ("10.0.0.1,10.0.0.2", "5432,5433")
    assert params["target_session_attrs"] == "read-write"
    assert params["connect_timeout"] == "5"  # a host that does not answer is passed over
