"""Engines for SQLite and PostgreSQL, and the migrations that bring a database up to date."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from pollnet.errors import UserError
from pollnet.model import Agency
from pollnet.store.schema import core

CONNECT_TIMEOUT_S = 5
AGENCY_NAMES: dict[Agency, tuple[str, str]] = {
    Agency.ELECTION_OFFICE: ("Election office", "ستاد انتخابات"),
    Agency.TELECOM: ("Telecommunication company", "شرکت مخابرات"),
    Agency.MUNICIPALITY: ("Municipality", "شهرداری"),
    Agency.EDUCATION: ("Education department", "آموزش و پرورش"),
}


_HOST_LIST = re.compile(
    r"^(?P<scheme>[^:/]+)://(?P<user>[^@/]*@)?(?P<hosts>[^/?@]*,[^/?@]*)(?P<rest>/.*)?$"
)


def multi_host_url(url: str) -> str:
    """``url`` with a libpq host list (``postgresql://u@h1:5432,h2:5432/db``) in the form
    SQLAlchemy reads (``postgresql://u@/db?host=h1:5432&host=h2:5432``); other URLs unchanged.

    libpq tries the hosts in order; with ``target_session_attrs=read-write`` it keeps the one
    that takes writes (the primary), so a service follows the primary across a failover.
    """
    match = _HOST_LIST.match(url)
    if match is None:
        return url
    rest = match["rest"] or "/"
    path, _, query = rest.partition("?")
    hosts = "&".join(f"host={quote(h.strip(), safe=':[]')}" for h in match["hosts"].split(","))
    return f"{match['scheme']}://{match['user'] or ''}{path}?{hosts}{'&' + query if query else ''}"


def create_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite files get WAL, foreign keys and a busy timeout.

    The folder of a SQLite file is created when missing. A PostgreSQL URL may list several
    hosts (:func:`multi_host_url`); a connection attempt gives up on a host after
    ``connect_timeout`` seconds (default 5), so a machine that stopped answering is passed over.
    """
    try:
        parsed = make_url(multi_host_url(url))
    except ArgumentError:
        raise UserError.of(
            "unsupported database URL: {url} (use sqlite:/// or postgresql://)", url=url
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        if "connect_timeout" not in parsed.query:
            parsed = parsed.update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT_S)})
        return sa.create_engine(parsed, **kwargs)
    raise UserError.of("unsupported database URL: {url} (use sqlite:/// or postgresql://)", url=url)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration that migrates ``engine``; no ``alembic.ini`` is needed."""
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("pollnet.store") / "migrations"))
    cfg.attributes["engine"] = engine
    return cfg


@contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[Connection]:
    """A transaction that runs alone among the transactions locked with ``name``.

    SQLite takes its one write lock at the start (``BEGIN IMMEDIATE``, waiting out the busy
    timeout); PostgreSQL a transaction advisory lock keyed by ``name``. Two imports at once then
    run one after the other, instead of both reading and then both adding the same rows.
    """
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": advisory_key(name)})
        yield conn


def advisory_key(name: str) -> int:
    """The PostgreSQL advisory lock key (a signed 64-bit integer) of the lock named ``name``."""
    digest = hashlib.sha256(f"pollnet:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def migrate(engine: Engine) -> None:
    """Bring the database behind ``engine`` up to the newest schema of every area, and fill its
    fixed tables (agencies).

    A migration runs under :func:`exclusive`, so commands started together on a fresh database
    migrate it once, one after the other; an up-to-date database is not locked at all.
    """
    cfg = alembic_config(engine)
    try:
        if _at_heads(engine, cfg):
            return
        with exclusive(engine, "migrate") as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "heads")
            _seed(conn)
    except OperationalError as exc:
        raise UserError.of("cannot open the database: {reason}", reason=str(exc.orig)) from None


def _at_heads(engine: Engine, cfg: Config) -> bool:
    heads = set(ScriptDirectory.from_config(cfg).get_heads())
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads()) == heads


def seed_reference_data(engine: Engine) -> None:
    """Fill the fixed tables (agencies) that every database has; safe to call again."""
    with engine.begin() as conn:
        _seed(conn)


def _seed(conn: Connection) -> None:
    have = set(conn.scalars(sa.select(core.agencies.c.code)))
    rows = [
        {"code": agency.value, "name_en": en, "name_fa": fa}
        for agency, (en, fa) in AGENCY_NAMES.items()
        if agency.value not in have
    ]
    if rows:
        conn.execute(core.agencies.insert(), rows)


def open_store(url: str) -> Engine:
    """An engine for ``url`` whose database is migrated and seeded: ready to use."""
    engine = create_engine(url)
    migrate(engine)
    return engine
