"""MMR, marginal ILD and DPP for many users at once: the same lists as engine.explore.rerank (per list), with
the per-step work done for a block of users as one numpy operation (the simulator re-ranks every
simulated user every round; a Python loop over 10,000 lists per round per policy cost most of a round).

Input per user: N candidates already in score order (best first) with their scores, and the (N, N)
similarity of the candidates (`sims`, from space.ItemSpace.block). Relevance is the DCG discount of the
score rank, as rerank.rank_relevance gives it, and the chosen k are returned in score order, as the app
shows them, so ``t`` means the same as the app's slider."""
from __future__ import annotations

import numpy as np

from engine.explore.rerank import rank_relevance

_FLOOR = 1e-12        # as rerank._FLOOR
_DEGENERATE = 1e-5    # as rerank._DEGENERATE for float32: a pick already in the span adds no direction


def rerank_many(scores: np.ndarray, sims: np.ndarray, k: int, tradeoff: float, method: str = "mmr") -> np.ndarray:
    """(B, k) positions into each user's candidates (B, N), in score order. Candidates must be in score order."""
    b, n = scores.shape
    k = min(int(k), n)
    t = float(tradeoff)
    if not 0.0 <= t <= 1.0:
        raise ValueError(f"tradeoff must be in [0, 1], got {tradeoff}")
    if t == 0.0 or k <= 1:
        return np.broadcast_to(np.arange(k), (b, k)).copy()
    # candidates come in score order, so every row's relevance is that of ranks 0..n-1
    s = np.broadcast_to(rank_relevance(-np.arange(n, dtype=np.float64)), (b, n))
    if method == "mmr":
        return np.sort(_greedy(s, sims, k, t, mean=False), axis=1)
    if method == "ild":
        return np.sort(_greedy(s, sims, k, t, mean=True), axis=1)
    if method == "dpp":
        return np.sort(_dpp(s, sims, k, t), axis=1)
    raise ValueError(f"unknown batched method {method!r}; choose mmr, ild or dpp")


def _greedy(s: np.ndarray, sims: np.ndarray, k: int, t: float, mean: bool) -> np.ndarray:
    """MMR (a candidate pays for its largest similarity to the picks) or marginal ILD (``mean``: for their
    mean similarity), one pick per step for every user at once."""
    b, n = s.shape
    rows = np.arange(b)
    rel = (1.0 - t) * s
    acc = np.zeros((b, n)) if mean else np.full((b, n), -np.inf)   # sum, or max, of similarities to the picks
    taken = np.zeros((b, n), dtype=bool)
    order = np.empty((b, k), dtype=np.int64)
    j = np.zeros(b, dtype=np.int64)                 # empty list: the best score first
    for step in range(k):
        order[:, step] = j
        taken[rows, j] = True
        if step == k - 1:
            break
        if mean:
            acc += sims[rows, j]
        else:
            np.maximum(acc, sims[rows, j], out=acc)
        obj = rel - t * (acc / (step + 1) if mean else acc)
        obj[taken] = -np.inf
        j = np.argmax(obj, axis=1)
    return order


def _dpp(s: np.ndarray, sims: np.ndarray, k: int, t: float) -> np.ndarray:
    b, n = s.shape
    rows = np.arange(b)
    rel = (1.0 - t) / t * s                          # 2 * alpha * s, alpha = (1 - t) / (2 t)
    d2 = np.einsum("bii->bi", sims).astype(np.float64)   # 1 for unit rows, 0 for empty ones
    c = np.zeros((b, k, n))
    taken = np.zeros((b, n), dtype=bool)
    order = np.empty((b, k), dtype=np.int64)
    j = np.argmax(rel + np.log(np.maximum(d2, _FLOOR)), axis=1)
    for step in range(k):
        order[:, step] = j
        taken[rows, j] = True
        if step == k - 1:
            break
        dj = d2[rows, j]
        cj = c[rows, :step, j]                       # (b, step)
        e = (sims[rows, j] - np.einsum("bm,bmn->bn", cj, c[:, :step])) / np.sqrt(np.maximum(dj, _FLOOR))[:, None]
        e[dj < _DEGENERATE] = 0.0                    # no new direction: no Cholesky row (rerank does the same)
        c[:, step] = e
        d2 -= e * e
        obj = rel + np.log(np.maximum(d2, _FLOOR))
        obj[taken] = -np.inf
        j = np.argmax(obj, axis=1)
    return order
