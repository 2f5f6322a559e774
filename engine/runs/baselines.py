"""The numpy baselines (MostPopular, ItemKNN, EASE, ALS): fitted, evaluated on the holdout and registered
as runs; and the baselines' figures beside a run (`llmrec evaluate`)."""
from __future__ import annotations

import time

from engine.data.aggregates import keep_loaded_counts
from engine.data.dataset import load_dataset
from engine.data.split import Split, time_split
from engine.errors import EngineError
from engine.evaluation.protocol import evaluate
from engine.jobs.cancel import check
from engine.models.registry import BASELINES, get_model_class
from engine.runs.saving import save_and_register
from engine.store import Store
from engine.types import StepProgress


def fit_stage(model_name: str) -> str:
    """The progress stage of a baseline's fit (its model may report finer stages in between)."""
    return f"Fitting {model_name}"


def evaluate_stage(model_name: str) -> str:
    """The progress stage of a baseline's evaluation: done/total are test users."""
    return f"Evaluating {model_name} (users)"


def fit_baseline(store: Store, dataset_name, model_name: str, *, holdout: bool = True, progress=None,
                 cancel=None, params: dict | None = None) -> int:
    """Fit a numpy baseline (no TensorFlow), evaluate it on the holdout, save and register it.
    Returns the run id. With holdout=False it learns from all interactions and has no metrics."""
    if model_name not in BASELINES:
        raise EngineError(f"{model_name!r} is not a baseline; choose one of {', '.join(BASELINES)}")
    ds = load_dataset(store, dataset_name)
    keep_loaded_counts(store, ds, progress=progress, cancel=cancel)   # the explorer's counts, while loaded
    start = time.perf_counter()
    split = time_split(ds) if holdout else None
    model = get_model_class(model_name)(**(params or {}))
    if progress is not None:
        progress(StepProgress(fit_stage(model_name), 0, 1))
    model.fit(split.train if split is not None else ds, progress=progress, cancel=cancel)
    check(cancel)
    if progress is not None:
        progress(StepProgress(fit_stage(model_name), 1, 1))
    metrics = (evaluate(model, split, progress=progress, cancel=cancel, stage=evaluate_stage(model_name))
               if split is not None else {})
    check(cancel)
    seconds = time.perf_counter() - start
    config = {"dataset": ds.info.name, "model": model_name, **model.params()}
    return save_and_register(store, dataset=ds, model=model, objective=None, config=config, holdout=holdout,
                             device="cpu", device_name="CPU (numpy)", seconds=seconds, metrics=metrics, epochs=[],
                             progress=progress, cancel=cancel)


def evaluate_baselines(split: Split, ks=(10, 20), progress=None, cancel=None,
                       names: tuple[str, ...] | None = None) -> dict[str, dict]:
    """Fit each baseline on the split's TRAIN and evaluate it: {name: metrics}."""
    out = {}
    for name in names or BASELINES:
        model = get_model_class(name)()
        if progress is not None:
            progress(StepProgress(fit_stage(name), 0, 1))
        model.fit(split.train, progress=progress, cancel=cancel)
        if progress is not None:
            progress(StepProgress(fit_stage(name), 1, 1))
        out[name] = evaluate(model, split, ks, progress=progress, cancel=cancel, stage=evaluate_stage(name))
    return out
