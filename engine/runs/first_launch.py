"""What the app does right after its window is shown (in a worker thread of the app): start the store
process that owns the database (the app's process holds no database connection: engine.store.process),
tidy what a killed job left, create the demo dataset on first launch, and fit a fast EASE baseline
(numpy, no TensorFlow) so the explorer works before any training. Plain functions, no Qt: the GUI
only chooses where each runs.

After an import (and after the demo is created on first launch) the app then encodes the catalogue in
a child process (engine.runs.child_tasks.encode_in_child), once the EASE fit has ended: one after the
other, not side by side, because this machine class has 2 cores: the fit is what the explorer needs
first, and a TensorFlow child starting beside it (import, weights, batches) would slow it down."""
from __future__ import annotations

from dataclasses import dataclass

from engine.data.demo import DEMO_NAME, create_demo_dataset
from engine.errors import NotFoundError
from engine.jobs.cancel import check
from engine.runs.baselines import fit_baseline
from engine.runs.maintenance import tidy
from engine.runs.queries import resolve_run
from engine.store import repository as repo
from engine.store.process import StoreProcess


@dataclass(frozen=True)
class DemoCreated:
    """Progress item of `prepare`: the demo dataset was created now (first launch): the app encodes its
    catalogue in the background once it is open."""
    dataset_id: int


def _say(progress, text: str) -> None:
    if progress is not None:
        progress(text)


def open_and_prepare(db: str | None, *, demo: bool = True, artifacts: str | None = None, progress=None,
                     cancel=None):
    """Start the store process on `db` and return its handle (a StoreProcess), with the demo dataset
    and its baseline in place when `demo`. `artifacts`: the model files' folder (a reopen keeps the old one)."""
    _say(progress, "Opening the database…")
    store = StoreProcess.open(db, artifacts=artifacts)
    try:
        store.call(prepare, demo=demo, progress=progress, cancel=cancel)
    except BaseException:
        store.close()
        raise
    return store


def prepare(store, *, demo: bool = True, progress=None, cancel=None) -> None:
    """In the store process: tidy what a killed job left behind (engine.runs.maintenance), then the demo
    dataset and its baseline on first launch (when `demo`)."""
    tidy(store)
    with store.session() as s:
        datasets = repo.list_datasets(s)
    if demo and not datasets:
        _say(progress, "First launch: creating the demo dataset…")
        demo_id = create_demo_dataset(store)
        check(cancel)
        ensure_baseline(store, DEMO_NAME, progress=progress, cancel=cancel)
        if progress is not None:
            progress(DemoCreated(demo_id))
    elif demo:
        if any(d.name == DEMO_NAME for d in datasets):
            ensure_baseline(store, DEMO_NAME, progress=progress, cancel=cancel)


def find_dataset_and_run(store, dataset: str | None, run: int | None) -> tuple[int, int | None]:
    """(dataset id, run id or None) for the app's --dataset / --run (a dataset may have no run yet)."""
    try:
        info = resolve_run(store, dataset, run)
    except NotFoundError:
        if dataset is None or run is not None:
            raise
        with store.session() as s:
            return repo.get_dataset(s, dataset).id, None
    return info.dataset_id, info.id


def ensure_baseline(store, dataset_name: str, model: str = "ease", *, progress=None, cancel=None) -> int | None:
    """Fit `model` on the dataset unless it already has a run; returns the new run id (None if none made)."""
    with store.session() as s:
        info = repo.get_dataset(s, dataset_name)
        if repo.list_runs(s, info.id):
            return None
    _say(progress, f"Fitting a {model.upper()} baseline on {dataset_name}…")
    return fit_baseline(store, dataset_name, model, holdout=True, cancel=cancel)
