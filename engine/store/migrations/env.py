"""Alembic environment: run with a connection handed over by `engine.store.db`."""
from alembic import context

from engine.store.schema import Base

config = context.config
connection = config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
