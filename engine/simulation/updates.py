"""How the system under test is updated between rounds: the cheapest honest update per model.

* refit: a numpy baseline (EASE, ALS, ItemKNN, MostPopular) is fitted afresh on TRAIN plus what was
  consumed (each fits in seconds, and a closed form or a few sweeps has nothing to warm-start from).
* warm: an LSTM keeps training from the policy's current towers for a few epochs on the same data, the
  warm start of `llmrec train --warm-start` (engine.models.lstm.warm) done in memory: nothing is saved
  or registered, so a cancelled simulation leaves no run and no files. Items first consumed since get
  their own id-embedding row, as there.
* none: the model is kept. For the LSTM this is fold-in: the user tower encodes any history, so the
  consumed items reach its scores at once (engine.simulation.scoring.Sequences), but its item vectors
  and tower weights never change.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from engine.data.dataset import Dataset
from engine.errors import EngineError
from engine.models.base import NumpyRecommender, Recommender
from engine.models.registry import get_model_class
from engine.types import EpochStats, StepProgress

WARM_EPOCHS = 1
WARM_STAGE = "Warm start of the system"


def default_update(model_name: str) -> str:
    """The update a run's system gets unless the user picks one: warm for an LSTM, refit for the rest."""
    return "warm" if model_name == "lstm" else "refit"


def refit_function(model: Recommender) -> Callable[[Dataset], Recommender] | None:
    """A function fitting a fresh model of the same kind and settings (None: not a numpy baseline)."""
    if not isinstance(model, NumpyRecommender):
        return None
    cls, params = get_model_class(model.name), model.params()

    def refit(data: Dataset) -> Recommender:
        fresh = cls(**params)
        fresh.fit(data)
        return fresh
    return refit


def warm_function(model: Recommender, run_dir: Path | None, run_id: int, *, epochs: int = WARM_EPOCHS, store=None,
                  progress=None, cancel=None) -> Callable[[Recommender, Dataset], Recommender] | None:
    """A function training a copy of the given LSTM further on the given data for `epochs` epochs, starting
    from its towers (the run's saved Keras model in `run_dir` the first time: a loaded run holds numpy weights
    only; a model fitted in this process has its towers and needs no folder).
    None for a model that is not an LSTM. `store`: MiniLM runs read the catalogue's encoder vectors from it
    (cached) instead of encoding every item again at each update."""
    if getattr(model, "name", "") != "lstm":
        return None
    report = progress or (lambda _u: None)

    def training_progress(u) -> None:
        """Training's epochs and batches as the simulation's steps (its front ends show StepProgress)."""
        if isinstance(u, EpochStats):
            u = (StepProgress(WARM_STAGE, u.epoch, u.epochs) if u.batch is None
                 else StepProgress(f"{WARM_STAGE}, {u.phase_label}", u.batch, u.batches or u.batch))
        report(u)
    saved: list = []     # the run's WarmStart, loaded once (TensorFlow) and shared: a warm start copies its weights

    def warm(previous: Recommender, data: Dataset) -> Recommender:
        from engine.models.lstm.model import LSTMRecommender
        from engine.models.lstm.warm import WarmStart
        assert isinstance(previous, LSTMRecommender)
        if previous.keras_model is not None:
            start = WarmStart(previous.keras_model, previous.id_index, list(previous.vocabulary))
        else:
            if not saved:
                if run_dir is None:
                    raise EngineError(f"run {run_id}'s towers are not in memory and no run folder was given")
                saved.append(WarmStart.from_run_dir(run_dir, run_id))
            start = saved[0]
        fresh = LSTMRecommender(**{**previous.params(), "epochs": epochs, "tune": False, "patience": 0,
                                   "refit": False})
        fresh.warm_start = start
        fresh.catalogue_store = store
        fresh.fit(data, progress=training_progress, cancel=cancel)
        return fresh
    return warm
