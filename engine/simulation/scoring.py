"""A model's scores for a block of users at once, from their histories as a sparse matrix (users x items,
1 per positive). The item-item baselines score a history as a sum of item rows, so a block of users is one
sparse-times-matrix product; other models fall back to their own `score_many` (a loop per user)."""
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


def _itemknn_matrix(model) -> sp.csr_matrix:
    cached = getattr(model, "_simulation_csr", None)
    if cached is None:
        n = model.n_items
        cached = sp.csr_matrix((model.weights, model.targets, model.indptr), shape=(n, n))
        model._simulation_csr = cached
    return cached


def score_block(model: Any, history: sp.csr_matrix) -> np.ndarray:
    """(rows, n_items) float32 scores of the histories' rows, for any Recommender (typed Any: the fast
    paths read the baselines' own arrays)."""
    name = getattr(model, "name", "")
    if name == "ease":
        return np.asarray(history @ model.B, dtype=np.float32)
    if name == "itemknn":
        return np.asarray((history @ _itemknn_matrix(model)).toarray(), dtype=np.float32)
    if name == "popularity":
        return np.tile(model.counts, (history.shape[0], 1))
    histories = [history.indices[history.indptr[r]:history.indptr[r + 1]].astype(np.int64)
                 for r in range(history.shape[0])]
    return np.asarray(model.score_many(histories), dtype=np.float32)
