"""The app's small database reads, as module-level functions `fn(store, ...)` with no Qt import: the
app runs them through `workers.run_async(fn, store, ...)` in the store process (the app's own process
holds no database connection), which unpickles them by name without loading Qt there."""
from __future__ import annotations


def list_datasets(store) -> list:
    from engine.storage import repository as repo
    with store.session() as s:
        return repo.list_datasets(s)


def list_runs(store, dataset_id: int | None = None) -> list:
    from engine.storage import repository as repo
    with store.session() as s:
        return repo.list_runs(s, dataset_id)


def run_epochs(store, run_id: int) -> list[dict]:
    from engine.storage import repository as repo
    with store.session() as s:
        return repo.run_epochs(s, run_id)
