"""Alembic environment: migrations run on the engine pollnet hands over, never from an ini file."""

from alembic import context
from sqlalchemy.engine import Connection

from pollnet.store.schema import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()


# pollnet.store.migrate hands over a connection already in its locked transaction.
given = context.config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    with context.config.attributes["engine"].begin() as connection:
        _run(connection)
