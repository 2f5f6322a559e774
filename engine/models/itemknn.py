"""ItemKNN: cosine similarity of binary item columns, pruned to the top-k neighbours of each target
item; a user's score for item j is the sum of j's similarities to the user's positive items.

Stored sparse by source item (CSR: for each history item, its targets and weights), so scoring a
user costs only the neighbours of their items and memory is n_items * k, not n_items^2."""
from __future__ import annotations

import numpy as np

from engine.evaluation.metrics import l2_normalise
from engine.jobs.cancel import check
from engine.models.base import NumpyRecommender, check_dense_size, cooccurrence


class ItemKNNRecommender(NumpyRecommender):
    """Item space (`item_vectors`): the L2-normalised columns of the pruned similarity matrix, i.e.
    each item described by how similar every item is to it (built on first use, n_items^2 floats)."""

    name = "itemknn"

    def __init__(self, k: int = 400) -> None:
        super().__init__()
        self.k = int(k)
        self.indptr = np.zeros(1, dtype=np.int64)
        self.targets = np.zeros(0, dtype=np.int32)
        self.weights = np.zeros(0, dtype=np.float32)
        self._vectors: np.ndarray | None = None

    def params(self) -> dict:
        return {"k": self.k}

    def fit(self, train, *, progress=None, cancel=None) -> None:
        check_dense_size("ItemKNN", train.n_items)
        self._start_fit(train)
        n = train.n_items
        sim = cooccurrence(train, cancel, dtype=np.float32)
        check(cancel)
        norms = np.sqrt(np.diag(sim)).astype(np.float32)
        inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        sim *= inv[:, None]
        sim *= inv[None, :]
        np.fill_diagonal(sim, 0.0)
        k = min(self.k, max(n - 1, 0))
        if 0 < k < n:
            # keep, for each target column j, the k most similar source rows
            for a in range(0, n, 1024):  # column blocks: bounded index memory
                block = sim[:, a:a + 1024]
                drop = np.argpartition(block, n - k - 1, axis=0)[: n - k]
                np.put_along_axis(block, drop, 0.0, axis=0)
                check(cancel)
        check(cancel)
        src, tgt = np.nonzero(sim)
        self.weights = sim[src, tgt].astype(np.float32)
        self.targets = tgt.astype(np.int32)
        self.indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(src, minlength=n), out=self.indptr[1:])
        self._vectors = None

    def _rows(self, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        starts, ends = self.indptr[items], self.indptr[items + 1]
        lens = ends - starts
        idx = np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(lens.sum())
        return self.targets[idx], self.weights[idx]

    def score(self, history_items, history_ratings=None) -> np.ndarray:
        t, w = self._rows(self.positives(history_items, history_ratings))
        return np.bincount(t, weights=w, minlength=self._n_items).astype(np.float32)

    def score_many(self, histories, ratings=None) -> np.ndarray:
        n = self._n_items
        parts_t, parts_w = [], []
        for r, h in enumerate(histories):
            t, w = self._rows(self.positives(h, None if ratings is None else ratings[r]))
            parts_t.append(t.astype(np.int64) + r * n)
            parts_w.append(w)
        if not histories:
            return np.zeros((0, n), dtype=np.float32)
        flat = np.bincount(np.concatenate(parts_t), weights=np.concatenate(parts_w), minlength=len(histories) * n)
        return flat.reshape(len(histories), n).astype(np.float32)

    def item_vectors(self) -> np.ndarray:
        if self._vectors is None:
            n = self._n_items
            dense = np.zeros((n, n), dtype=np.float32)
            src = np.repeat(np.arange(n), np.diff(self.indptr))
            dense[self.targets, src] = self.weights  # row j = column j of the similarity matrix
            self._vectors = l2_normalise(dense)
        return self._vectors

    def _arrays(self):
        return {"indptr": self.indptr, "targets": self.targets, "weights": self.weights}

    def _set_arrays(self, arrays):
        self.indptr, self.targets, self.weights = arrays["indptr"], arrays["targets"], arrays["weights"]
