"""The app's small database reads, as module-level functions `fn(store, ...)`: the app runs them in its
store process (its own process holds no database connection), which unpickles them by name; being in
the engine, loading them there never loads Qt."""
from __future__ import annotations


def list_datasets(store) -> list:
    from engine.store import repository as repo
    with store.session() as s:
        return repo.list_datasets(s)


def list_runs(store, dataset_id: int | None = None) -> list:
    from engine.store import repository as repo
    with store.session() as s:
        return repo.list_runs(s, dataset_id)


def run_epochs(store, run_id: int) -> list[dict]:
    from engine.store import repository as repo
    with store.session() as s:
        return repo.run_epochs(s, run_id)


def run_index_info(store, run_id: int) -> dict | None:
    """The run's ANN index facts (engine.retrieval.index.index_info), or None when it has none."""
    from engine.retrieval.index import index_info
    from engine.runs.loaded import run_path
    from engine.store import repository as repo
    with store.session() as s:
        info = repo.get_run(s, run_id)
    return index_info(run_path(store, info))
