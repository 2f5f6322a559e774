"""MostPopular: every user gets the items with the most TRAIN positives. The floor any model must beat."""
from __future__ import annotations

import numpy as np

from engine.models.base import NumpyRecommender, positive_pairs


class PopularityRecommender(NumpyRecommender):
    """Scores = TRAIN positive counts. It has no item space of its own: `item_vectors()` is None
    (callers fall back to genre vectors)."""

    name = "popularity"

    def __init__(self) -> None:
        super().__init__()
        self.counts = np.zeros(0, dtype=np.float32)

    def fit(self, train, *, progress=None, cancel=None) -> None:
        self._start_fit(train)
        _, items = positive_pairs(train)
        self.counts = np.bincount(items, minlength=train.n_items).astype(np.float32)

    def score(self, history_items, history_ratings=None) -> np.ndarray:
        return self.counts.copy()

    def score_many(self, histories, ratings=None) -> np.ndarray:
        return np.tile(self.counts, (len(histories), 1))

    def _arrays(self):
        return {"counts": self.counts}

    def _set_arrays(self, arrays):
        self.counts = arrays["counts"].astype(np.float32)
