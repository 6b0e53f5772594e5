"""Alembic environment: migrations run on the engine pollnet hands over, never from an ini file."""

from alembic import context

from pollnet.store.schema import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
