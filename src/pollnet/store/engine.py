"""Engines for SQLite and PostgreSQL, and the migrations that bring a database up to date."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from pollnet.errors import UserError
from pollnet.model import Agency
from pollnet.store.schema import core

AGENCY_NAMES: dict[Agency, tuple[str, str]] = {
    Agency.ELECTION_OFFICE: ("Election office", "ستاد انتخابات"),
    Agency.TELECOM: ("Telecommunication company", "شرکت مخابرات"),
    Agency.MUNICIPALITY: ("Municipality", "شهرداری"),
    Agency.EDUCATION: ("Education department", "آموزش و پرورش"),
}


def create_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite files get WAL, foreign keys and a busy timeout.

    The folder of a SQLite file is created when missing.
    """
    try:
        parsed = make_url(url)
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


def migrate(engine: Engine) -> None:
    """Bring the database behind ``engine`` up to the newest schema of every area."""
    try:
        command.upgrade(alembic_config(engine), "heads")
    except OperationalError as exc:
        raise UserError.of("cannot open the database: {reason}", reason=str(exc.orig)) from None


def seed_reference_data(engine: Engine) -> None:
    """Fill the fixed tables (agencies) that every database has; safe to call again."""
    with engine.begin() as conn:
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
    seed_reference_data(engine)
    return engine
