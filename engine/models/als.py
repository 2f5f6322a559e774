"""ALS (Hu, Koren & Volinsky 2008) through the `implicit` package: the matrix factorisation people
deploy for implicit feedback, shown beside every model. `implicit` fits the item factors; a user's
factors are then solved from the history given at scoring time, exactly as one ALS user step
(so a user's "like" changes the list at once, with no user table to keep in sync):

    u = (Y^T Y + reg I + (alpha - 1) Y_h^T Y_h)^-1 alpha Y_h^T 1      (implicit's confidence: alpha)

Defaults (128 factors, reg 100, alpha 10, 15 iterations): the best point of the validation grid of
engine/models/selection.py on X-Wines (validation NDCG@10 0.1353) and near the best on MovieTweetings
(test 0.0870 against 0.0864 for PEERS.md's choice); benchmarks/quality.py searches the grid per dataset."""
from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator

import numpy as np

from engine.evaluation.metrics import l2_normalise
from engine.jobs.cancel import check
from engine.models.base import NumpyRecommender, positive_pairs
from engine.types import StepProgress

_controller: Any = None
_controller_lock = threading.Lock()


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS (OpenBLAS/MKL) limited to one thread for the block, as `implicit` asks: its fit runs its own
    threads, and a user step is many small products and solves where a BLAS pool's hand-offs cost more than
    they save. In a niced child beside busy processes (the app's training job) a 2-thread pool waits for
    its starved second thread at every call: the evaluation crawled at ~8 users/s (issue 22). The loaded
    libraries are found once (threadpoolctl's scan is slow); without threadpoolctl it does nothing."""
    global _controller
    with _controller_lock:
        if _controller is None:
            try:
                import scipy.sparse  # noqa: F401 - scipy's own OpenBLAS loaded before the scan
                from threadpoolctl import ThreadpoolController
            except ImportError:
                _controller = False
            else:
                _controller = ThreadpoolController()
    if _controller is False:
        yield
        return
    with _controller.limit(limits=1, user_api="blas"):
        yield


class ALSRecommender(NumpyRecommender):
    """Item space (`item_vectors`): the L2-normalised item factors."""

    name = "als"

    def __init__(self, factors: int = 128, regularization: float = 100.0, alpha: float = 10.0,
                 iterations: int = 15, seed: int = 42) -> None:
        super().__init__()
        self.factors, self.regularization, self.alpha = int(factors), float(regularization), float(alpha)
        self.iterations, self.seed = int(iterations), int(seed)
        self.Y = np.zeros((0, self.factors), dtype=np.float32)
        self._gram: np.ndarray | None = None

    def params(self) -> dict:
        return dict(factors=self.factors, regularization=self.regularization, alpha=self.alpha,
                    iterations=self.iterations, seed=self.seed)

    def fit(self, train, *, progress=None, cancel=None) -> None:
        import scipy.sparse as sp
        from implicit.cpu.als import AlternatingLeastSquares

        self._start_fit(train)
        report = progress or (lambda _u: None)
        users, items = positive_pairs(train)
        x = sp.csr_matrix((np.ones(len(users), np.float32), (users, items)), shape=(train.n_users, train.n_items))

        def step(it, *_):
            report(StepProgress("ALS: alternating least squares", it + 1, self.iterations))
            check(cancel)

        # implicit runs its own threads; a BLAS pool under it only slows it down (and constructing the
        # model outside the limit prints implicit's OpenBLAS-threads warning)
        with one_blas_thread():
            model = AlternatingLeastSquares(factors=self.factors, regularization=self.regularization,
                                            alpha=self.alpha, iterations=self.iterations, random_state=self.seed,
                                            calculate_training_loss=False)
            model.fit(x, show_progress=False, callback=step)
        self.Y = np.ascontiguousarray(model.item_factors, dtype=np.float32)
        self._gram = None

    def _user_factors(self, histories: list[np.ndarray]) -> np.ndarray:
        """(len(histories), factors): one ALS user step per history (rows of positive item indices), the
        systems solved together; with alpha 1 every user shares one matrix."""
        if self._gram is None:
            Y = self.Y.astype(np.float64)
            self._gram = Y.T @ Y + self.regularization * np.eye(Y.shape[1])
        k = self.Y.shape[1]
        out = np.zeros((len(histories), k), dtype=np.float64)
        rows = [r for r, h in enumerate(histories) if len(h)]
        if not rows:
            return out.astype(np.float32)
        b = np.stack([self.alpha * self.Y[histories[r]].sum(axis=0, dtype=np.float64) for r in rows])
        if self.alpha == 1.0:
            out[rows] = np.linalg.solve(self._gram, b.T).T
        else:
            a = np.empty((len(rows), k, k))
            for j, r in enumerate(rows):
                yh = self.Y[histories[r]].astype(np.float64)
                a[j] = self._gram + (self.alpha - 1.0) * (yh.T @ yh)
            out[rows] = np.linalg.solve(a, b[..., None])[..., 0]
        return out.astype(np.float32)

    def score(self, history_items, history_ratings=None) -> np.ndarray:
        return self.score_many([history_items], None if history_ratings is None else [history_ratings])[0]

    def score_many(self, histories, ratings=None) -> np.ndarray:
        if len(self.Y) == 0:
            return np.zeros((len(histories), self._n_items), dtype=np.float32)
        pos = [self.positives(h, None if ratings is None else ratings[r]) for r, h in enumerate(histories)]
        with one_blas_thread():     # many small products and solves: one thread (see one_blas_thread)
            return (self._user_factors(pos) @ self.Y.T).astype(np.float32)

    def item_vectors(self) -> np.ndarray:
        return l2_normalise(self.Y)

    def _arrays(self):
        return {"Y": self.Y}

    def _set_arrays(self, arrays):
        self.Y = arrays["Y"].astype(np.float32)
        self._gram = None
