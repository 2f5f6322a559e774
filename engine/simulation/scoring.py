"""A model's scores for a block of users at once, from their histories as a sparse matrix (users x items,
1 per positive). The item-item baselines score a history as a sum of item rows, so a block of users is one
sparse-times-matrix product; other models fall back to their own `score_many` (a loop per user), given the
histories in time order when the loop has them (`Sequences`: the LSTM reads the last L interactions)."""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp


def history_matrix(users: np.ndarray, items: np.ndarray, n_rows: int, n_items: int) -> sp.csr_matrix:
    """Binary CSR (n_rows x n_items) of (row, item) pairs; duplicates count once."""
    m = sp.csr_matrix((np.ones(len(users), np.float32), (np.asarray(users), np.asarray(items))),
                      shape=(n_rows, n_items))
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


SET_MODELS = ("ease", "itemknn", "popularity")   # scored from the sparse history alone: order plays no part


def reads_sets(model: Any) -> bool:
    return getattr(model, "name", "") in SET_MODELS


class Sequences:
    """Each simulated user's TRAIN interactions in time order with their ratings (the input the run was
    evaluated on), then what they consumed, round by round, unrated: the history a sequence model reads.
    Built once per simulation, only for a model that is not one of SET_MODELS."""

    def __init__(self, train, users: np.ndarray) -> None:
        from engine.data.split import UserHistories
        hist = UserHistories.from_dataset(train)
        self.rows = [hist(int(u)) for u in users]

    def block(self, a: int, b: int, consumed: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Histories and ratings of simulated users a..b-1; `consumed` (b - a, rounds so far), -1 for nothing."""
        items, ratings = [], []
        for j, (h, r) in enumerate(self.rows[a:b]):
            c = consumed[j][consumed[j] >= 0]
            items.append(np.concatenate([h.astype(np.int64), c]))
            ratings.append(np.concatenate([r.astype(np.float32), np.full(len(c), np.nan, np.float32)]))
        return items, ratings


def _itemknn_matrix(model) -> sp.csr_matrix:
    cached = getattr(model, "_simulation_csr", None)
    if cached is None:
        n = model.n_items
        cached = sp.csr_matrix((model.weights, model.targets, model.indptr), shape=(n, n))
        model._simulation_csr = cached
    return cached


def score_block(model: Any, history: sp.csr_matrix,
                sequences: tuple[list[np.ndarray], list[np.ndarray]] | None = None) -> np.ndarray:
    """(rows, n_items) float32 scores of the histories' rows, for any Recommender (typed Any: the fast
    paths read the baselines' own arrays). `sequences`: the same rows' (histories, ratings) in time order,
    which a model other than SET_MODELS is given instead of the set (in item order) `history` holds."""
    name = getattr(model, "name", "")
    if name == "ease":
        return np.asarray(history @ model.B, dtype=np.float32)
    if name == "itemknn":
        return np.asarray((history @ _itemknn_matrix(model)).toarray(), dtype=np.float32)
    if name == "popularity":
        return np.tile(model.counts, (history.shape[0], 1))
    if sequences is not None:
        return np.asarray(model.score_many(*sequences), dtype=np.float32)
    histories = [history.indices[history.indptr[r]:history.indptr[r + 1]].astype(np.int64)
                 for r in range(history.shape[0])]
    return np.asarray(model.score_many(histories), dtype=np.float32)
