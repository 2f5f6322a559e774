"""The Recommender protocol every model implements (baselines and the LSTM alike), so evaluation,
the CLI and the GUI treat them the same way. Scoring is pure numpy: the GUI calls it in-process."""
from __future__ import annotations

import abc
import json
import pathlib
from typing import ClassVar

import numpy as np

from engine.data.dataset import Dataset
from engine.errors import EngineError
from engine.jobs.cancel import CancelToken, check


class Recommender(abc.ABC):
    name: ClassVar[str]

    @abc.abstractmethod
    def fit(self, train: Dataset, *, progress=None, cancel: CancelToken | None = None) -> None:
        """Learn from `train` (the TRAIN split; positives per `train.positive_mask()`)."""

    @abc.abstractmethod
    def score(self, history_items: np.ndarray, history_ratings: np.ndarray | None = None) -> np.ndarray:
        """(n_items,) float32 scores for one user from a time-ordered history."""

    def score_many(self, histories: list[np.ndarray], ratings: list[np.ndarray] | None = None) -> np.ndarray:
        """(len(histories), n_items) scores; the default loops over `score`."""
        if not histories:
            return np.zeros((0, self.n_items), dtype=np.float32)
        rows = [self.score(h, None if ratings is None else ratings[i]) for i, h in enumerate(histories)]
        return np.stack(rows).astype(np.float32, copy=False)

    def item_vectors(self) -> np.ndarray | None:
        """(n_items, d) L2-normalised rows: the model's own item space (None if it has none)."""
        return None

    def query_vectors(self, histories: list[np.ndarray], ratings: list[np.ndarray] | None = None) -> np.ndarray | None:
        """(B, d) user vectors whose inner product with `item_vectors()` ranks items as `score` does, or
        None when the model's scores are not such an inner product (then no ANN index applies)."""
        return None

    def scores_from_similarity(self, sims: np.ndarray) -> np.ndarray:
        """Scores from inner products of `query_vectors` and `item_vectors` (the same order)."""
        return np.asarray(sims, np.float32)

    @property
    @abc.abstractmethod
    def n_items(self) -> int: ...

    @abc.abstractmethod
    def save(self, directory: pathlib.Path) -> None: ...

    @classmethod
    @abc.abstractmethod
    def load(cls, directory: pathlib.Path) -> "Recommender": ...


class NumpyRecommender(Recommender):
    """Base for the numpy baselines: learns from binary TRAIN positives; at scoring time only the
    history's positives (rating >= the threshold seen at fit time, or unrated) count as input."""

    def __init__(self) -> None:
        self.threshold: float | None = None
        self._n_items = 0

    @property
    def n_items(self) -> int:
        return self._n_items

    def params(self) -> dict:
        """Hyperparameters, saved beside the arrays and shown in run configs."""
        return {}

    def positives(self, items: np.ndarray, ratings: np.ndarray | None) -> np.ndarray:
        items = np.asarray(items, dtype=np.int64)
        if ratings is None or self.threshold is None or len(items) == 0:
            return np.unique(items)
        r = np.asarray(ratings, dtype=np.float64)
        return np.unique(items[np.isnan(r) | (r >= self.threshold)])

    def _arrays(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _set_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def save(self, directory: pathlib.Path) -> None:
        directory = pathlib.Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        np.savez(directory / "model.npz", **self._arrays())
        meta = dict(model=self.name, n_items=self._n_items, threshold=self.threshold, params=self.params())
        (directory / "model.json").write_text(json.dumps(meta))

    @classmethod
    def load(cls, directory: pathlib.Path) -> "NumpyRecommender":
        directory = pathlib.Path(directory)
        meta = json.loads((directory / "model.json").read_text())
        model = cls(**meta["params"])
        model.threshold, model._n_items = meta["threshold"], int(meta["n_items"])
        with np.load(directory / "model.npz", allow_pickle=False) as z:
            model._set_arrays({k: z[k] for k in z.files})
        return model

    def _start_fit(self, train: Dataset) -> np.ndarray:
        """Remember catalogue size and threshold; return the mask of TRAIN positives."""
        self._n_items = train.n_items
        self.threshold = train.positive_threshold
        return train.positive_mask()


def positive_pairs(train: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Unique (user, item) pairs of TRAIN positives, sorted by user."""
    mask = train.positive_mask()
    u = train.user_idx[mask].astype(np.int64)
    i = train.item_idx[mask].astype(np.int64)
    key = np.unique(u * train.n_items + i)
    return (key // train.n_items), (key % train.n_items)


MAX_DENSE_ITEMS = 30_000  # n_items^2 dense item-item matrices beyond this would need many GB


def check_dense_size(model_name: str, n_items: int) -> None:
    """Refuse, clearly, a catalogue too large for a dense item-item model (instead of running out of memory)."""
    if n_items > MAX_DENSE_ITEMS:
        gb = n_items * n_items * 8 / 1e9
        raise EngineError(f"{model_name} needs a dense {n_items:,} x {n_items:,} item matrix (~{gb:.0f} GB); "
                          f"catalogues above {MAX_DENSE_ITEMS:,} items are not supported by this baseline")


def cooccurrence(train: Dataset, cancel: CancelToken | None = None, dtype=np.float64) -> np.ndarray:
    """Dense item-item Gram matrix X^T X of the binary TRAIN positives (no scipy needed): built user
    by user, so the cost is the sum of squared history lengths, never users x items^2."""
    users, items = positive_pairs(train)
    n = train.n_items
    gram = np.zeros((n, n), dtype=dtype)
    bounds = np.flatnonzero(np.diff(users)) + 1
    for j, chunk in enumerate(np.split(items, bounds)):
        gram[np.ix_(chunk, chunk)] += 1.0
        if j % 2048 == 0:
            check(cancel)
    return gram
