"""Storage: one SQLAlchemy engine per database URL, migrated by Alembic on open.

SQLite (WAL) is the embedded default; PostgreSQL is selected by a ``postgresql://`` URL. Every
area of pollnet adds its tables in :mod:`pollnet.store.schema` and its migrations as an Alembic
branch of its own under ``migrations/versions`` (``upgrade heads`` applies them all).
"""

from pollnet.store.engine import (
    create_engine,
    exclusive,
    migrate,
    open_store,
    seed_reference_data,
)
from pollnet.store.schema import metadata

__all__ = ["create_engine", "exclusive", "metadata", "migrate", "open_store", "seed_reference_data"]
