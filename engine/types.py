"""Frozen dataclasses that cross boundaries (engine -> CLI, GUI signals, tests): plain data only."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class DatasetInfo:
    id: int
    name: str
    n_users: int
    n_items: int
    n_interactions: int
    rating_min: float | None
    rating_max: float | None
    positive_threshold: float | None  # None: every interaction is a positive (implicit data)
    source: dict = field(default_factory=dict)
    import_report: dict = field(default_factory=dict)
    created_at: datetime | None = None
    genres_label: str = "Genres"      # what the item categories are called ("Categories" for wines)

    @property
    def is_implicit(self) -> bool:
        return self.rating_min is None


@dataclass(frozen=True)
class ItemInfo:
    idx: int
    external_id: str
    title: str
    genres: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class RunInfo:
    id: int
    dataset_id: int
    dataset_name: str
    model: str
    objective: str | None
    holdout: bool
    device: str | None
    device_name: str | None
    seconds: float | None
    metrics: dict
    config: dict
    artifact_dir: str | None
    created_at: datetime | None


@dataclass(frozen=True)
class EpochStats:
    """One epoch (or a within-epoch step when `batch` is set) of training, as reported live."""
    epoch: int
    epochs: int
    loss: float
    val_recall10: float | None = None
    val_ndcg10: float | None = None
    examples_per_s: float | None = None
    seconds: float | None = None
    eta_s: float | None = None
    batch: int | None = None
    batches: int | None = None
    phase: str = "epoch"          # "epoch" (training, early stopping) or "refit" (on all of TRAIN)
    phase_epoch: int | None = None   # 1-based epoch within the phase ...
    phase_epochs: int | None = None  # ... of this many (what a progress label shows: "refit 1/3")

    @property
    def phase_label(self) -> str:
        """"epoch 1/3" while training, "refit 1/3" while refitting (not "epoch 4/6" for epochs = 3)."""
        if self.phase_epoch is not None and self.phase_epochs:
            return f"{self.phase} {self.phase_epoch}/{self.phase_epochs}"
        return f"epoch {self.epoch}/{self.epochs}"


@dataclass(frozen=True)
class StepProgress:
    """Progress of non-epoch work (fitting a baseline, evaluating users): `done` of `total` in `stage`."""
    stage: str
    done: int
    total: int


@dataclass(frozen=True)
class TrialStats:
    """One finished tuning trial (settings chosen on the validation split), as reported live."""
    trial: int                  # 1-based
    params: dict                # the searched settings of this trial
    val_ndcg10: float | None    # its best validation NDCG@10 over its epochs (None: stopped before one)
    best_epoch: int
    seconds: float
    state: str                  # "complete" | "pruned" (behind the other trials, or out of time budget)
    best_trial: int             # the chosen trial so far (1-based) and its validation NDCG@10
    best_val_ndcg10: float | None
    elapsed_s: float
    budget_s: float
