"""The app's small database reads, as module-level functions `fn(store, ...)`: the app runs them in its
store process (its own process holds no database connection), which unpickles them by name; being in
the engine, loading them there never loads Qt."""
from __future__ import annotations

from engine.errors import EngineError, NotFoundError
from engine.retrieval.index import index_info
from engine.runs.loaded import run_path
from engine.store import repository as repo


def list_datasets(store) -> list:
    with store.session() as s:
        return repo.list_datasets(s)


def list_runs(store, dataset_id: int | None = None) -> list:
    with store.session() as s:
        return repo.list_runs(s, dataset_id)


def run_epochs(store, run_id: int) -> list[dict]:
    with store.session() as s:
        return repo.run_epochs(s, run_id)


def run_index_info(store, run_id: int) -> dict | None:
    """The run's ANN index facts (engine.retrieval.index.index_info), or None when it has none."""
    with store.session() as s:
        info = repo.get_run(s, run_id)
    return index_info(run_path(store, info))


def resolve_run(store, dataset: str | None, run: int | None):
    """The RunInfo both front ends open: `run` (checked against `dataset`), else the dataset's latest."""
    with store.session() as s:
        if run is not None:
            info = repo.get_run(s, int(run))
            if dataset is not None and repo.get_dataset(s, dataset).id != info.dataset_id:
                raise EngineError(f"run {run} is not a run of dataset {dataset!r} (it is of {info.dataset_name!r})")
            return info
        if dataset is None:
            raise EngineError("give --run or --dataset")
        runs = repo.list_runs(s, repo.get_dataset(s, dataset).id)
        if not runs:
            raise NotFoundError(f"dataset {dataset!r} has no model yet: fit one with "
                                f"`llmrec train --dataset {dataset!r} --model ease`")
        return runs[-1]
