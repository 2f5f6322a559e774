"""What a training will do and roughly how long, said before it starts (issue 22, item 3: a "short" LSTM took
14 minutes, 9 of them encoding the catalogue, with no warning). Figures come from this machine: the epochs of
the latest LSTM run in this database (seconds per epoch, scaled by interactions), the encoder's speed noted by
earlier encodings (engine.store.timings), a baseline's own last fit. Nothing measured yet: the step is listed
without a time, and the plan says so."""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from engine.data.dataset import load_dataset
from engine.encoder.catalogue import choose_encoder, encoded_fraction
from engine.models.lstm.model import LSTMConfig
from engine.models.lstm.tuning import DEFAULT_TRIALS
from engine.models.registry import BASELINES, display_name
from engine.store import repository as repo
from engine.store import timings

TF_MODELS = ("lstm", "lstm_ease")


@dataclass(frozen=True)
class Step:
    what: str                  # "encode 1,007 item texts (all-MiniLM-L6-v2)"
    seconds: float | None      # None: nothing measured on this machine yet


@dataclass(frozen=True)
class TrainingPlan:
    steps: tuple[Step, ...] = field(default_factory=tuple)

    @property
    def seconds(self) -> float | None:
        """The whole plan, when every step has a figure."""
        times = [s.seconds for s in self.steps]
        return None if not times or any(t is None for t in times) else float(sum(times))  # type: ignore[arg-type]

    def describe(self) -> str:
        """'Will: encode 1,007 texts (~40 s); tune for up to 15 min; train 20 epochs (~3 min). About 19 min.'"""
        parts = [s.what + (f" (~{_duration(s.seconds)})" if s.seconds else "") for s in self.steps]
        total = self.seconds
        tail = (f" About {_duration(total)} in all, from figures measured on this machine." if total is not None
                else " Steps without a time have not been measured on this machine yet.")
        return "Will " + "; ".join(parts) + "." + tail


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def training_plan(store, config) -> TrainingPlan:
    """The steps `config` (an engine.runs.training.TrainConfig) will take on its dataset, with times."""
    with store.session() as s:
        info = repo.get_dataset(s, config.dataset)
        runs = repo.list_runs(s)
    if config.model not in TF_MODELS:
        return TrainingPlan((_baseline_step(store, config.model, info, runs),))
    steps = []
    ds = load_dataset(store, config.dataset, with_interactions=False)
    encoder = choose_encoder(info.n_items, (config.extra or {}).get("item_encoder", "auto"))
    missing = int(round(info.n_items * (1.0 - encoded_fraction(store, ds, encoder))))
    if missing:
        speed = timings.rate(store, f"encode:{encoder}")
        steps.append(Step(f"encode {missing:,} item texts ({encoder})", missing / speed if speed else None))
    else:
        steps.append(Step(f"reuse the {info.n_items:,} encoded item texts ({encoder})", 0.0))
    last = _last_lstm(store, runs, info.n_interactions)
    if config.tune and config.warm_start is None:
        n = config.max_trials or DEFAULT_TRIALS       # the work budget; seconds only as an optional bound
        what = f"tune on validation ({n} settings, successive halving over epochs)"
        steps.append(Step(f"tune on validation for up to {_duration(config.budget_s)} ({n} settings, successive "
                          "halving over epochs)", float(config.budget_s)) if config.budget_s else Step(what, None))
    epochs = int(config.epochs)
    if last is None:
        steps.append(Step(f"train up to {epochs} epochs on {info.n_interactions:,} interactions", None))
    else:       # early stopping: as many epochs as the last LSTM run trained, at most `epochs`
        epoch_s, trained, refit = last
        ran = min(epochs, trained)
        steps.append(Step(f"train up to {epochs} epochs on {info.n_interactions:,} interactions ({trained} "
                          "last time, early stopping)", ran * epoch_s))
    if config.refit and config.holdout and config.warm_start is None:
        warm = (config.extra or {}).get("warm_refit", LSTMConfig.warm_refit)
        what = ("refit: one more epoch on all of TRAIN from the chosen towers" if warm else
                "refit on all of TRAIN for the best number of epochs")
        steps.append(Step(what, None if last is None else (1 if warm else min(epochs, last[2] or last[1])) * last[0]))
    return TrainingPlan(tuple(steps))


def _last_lstm(store, runs, n_interactions: int) -> tuple[float, int, int] | None:
    """(seconds per epoch scaled to this many interactions, epochs trained, refit epochs) of the latest
    LSTM run in this database: the median of its epochs, which say their seconds."""
    for run in reversed(runs):
        if run.model not in TF_MODELS:
            continue
        with store.session() as s:
            rows = repo.run_epochs(s, run.id)
            size = repo.get_dataset(s, run.dataset_name).n_interactions
        secs = [e["seconds"] for e in rows if e.get("seconds")]
        if secs and size:
            trained = sum(1 for e in rows if e.get("val_ndcg10") is not None) or len(rows)
            return statistics.median(secs) * n_interactions / size, trained, len(rows) - trained
    return None


def _baseline_step(store, model: str, info, runs) -> Step:
    what = f"fit {display_name(model)} on {info.n_interactions:,} interactions and evaluate it"
    if model not in BASELINES:
        return Step(what, None)
    for run in reversed(runs):
        if run.model == model and run.seconds:
            with store.session() as s:
                size = repo.get_dataset(s, run.dataset_name).n_interactions
            return Step(what, run.seconds * info.n_interactions / max(size, 1))
    return Step(what, None)
