"""SQLite (or any SQLAlchemy URL) storage: schema, migrations, sessions, repository functions."""
from engine.store.db import Store, open_store

__all__ = ["Store", "open_store"]
