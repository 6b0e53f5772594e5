"""Shared fixtures: a fresh database URL on SQLite and on a real throw-away PostgreSQL server.

The PostgreSQL 15 server is started once per test session with ``initdb``/``pg_ctl`` into a
temporary folder on a free port of 127.0.0.1 (as the ``postgres`` system user when the tests run
as root, since initdb refuses root). Each test gets its own new database. Where no server binaries
exist the PostgreSQL half of a test is skipped and says so, unless ``POLLNET_REQUIRE_POSTGRES=1``
(set by CI), where it fails instead.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from tests.clusterfixture import cluster
from tests.pgserver import PostgresServer, find_pg_bin, throwaway

_database_numbers = itertools.count(1)


@pytest.fixture(scope="session", autouse=True)
def system_temp_left_clean(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The system temporary folder of this run is a fresh folder of its own, and every test
    must leave it empty: what a test makes there it removes (pytest's ``tmp_path`` is kept
    apart)."""
    tmp_path_factory.getbasetemp()  # pytest's own folder stays where it is
    folder = Path(tempfile.mkdtemp(prefix="pollnet-tests-"))
    folder.chmod(0o755)  # the postgres user reaches its throw-away cluster below it
    saved = tempfile.tempdir, os.environ.get("TMPDIR")
    tempfile.tempdir = str(folder)
    os.environ["TMPDIR"] = str(folder)
    try:
        yield folder
        left = sorted(p.name for p in folder.iterdir())
        assert not left, f"the tests left these in the system temporary folder: {left}"
    finally:
        tempfile.tempdir = saved[0]
        if saved[1] is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved[1]
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A running throw-away PostgreSQL server for the whole session."""
    import os

    bin_dir = find_pg_bin()
    if bin_dir is None:
        if os.environ.get("POLLNET_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) not found, but required")
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found on this machine")
    with throwaway(bin_dir) as server:
        yield server


@contextmanager
def engines_disposed(database: str) -> Iterator[None]:
    """Dispose, on leaving, every SQLAlchemy engine that connected to ``database`` (a
    PostgreSQL database name or an SQLite file) meanwhile, so that no test's connections
    outlive it."""
    opened: weakref.WeakSet[Engine] = weakref.WeakSet()

    def connected(conn: Connection) -> None:
        if conn.engine.url.database == database:
            opened.add(conn.engine)

    event.listen(Engine, "engine_connect", connected)
    try:
        yield
    finally:
        event.remove(Engine, "engine_connect", connected)
        for engine in list(opened):
            engine.dispose()


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped when the test ends (the engines
    the test opened on it disposed first)."""
    name = f"pollnet_test_{next(_database_numbers)}"
    url = pg_server.create_database(name)
    try:
        with engines_disposed(name):
            yield url
    finally:
        pg_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "pollnet.db"
        with engines_disposed(str(path)):
            yield f"sqlite:///{path}"
    else:
        yield request.getfixturevalue("pg_url")


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run ``pollnet`` in-process on a fresh SQLite database in ``tmp_path`` (also the working
    folder); ``run(*args)`` returns (exit code, out, err) and no run may print a traceback."""
    from pollnet.cli import main

    monkeypatch.setenv("POLLNET_DB", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("POLLNET_LANG", raising=False)
    monkeypatch.delenv("POLLNET_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as done:
            main(list(args))
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return int(done.value.code or 0), out, err

    return invoke


__all__ = ["cluster"]
