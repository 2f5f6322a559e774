"""Diversity re-rankers (pure numpy): re-order a model's top-N candidates into a list of k.

One trade-off value ``t`` in [0, 1] drives every method, so one slider drives them all:
``t = 0`` gives exactly the input (score) order, ``t = 1`` the most diverse list the method makes.
Relevance is the DCG discount of each candidate's score rank, 1 / log2(rank + 2), scaled to [0, 1]
within the candidates (``relevance="rank"``, the default), or the min-max normalised score
(``relevance="score"``): either way ``t`` means the same for every model. Rank relevance weighs keeping an
item where NDCG weighs it: the first few places are worth much, the tail little, whatever the model's score
gaps. On the demo's selection users (categories space, marginal ILD) it kept 0.054 of EASE's 0.065 NDCG@10
at category ILD 0.90 against 0.053 with score relevance, and 0.050 of the LSTM's 0.071 against 0.046
(`benchmarks/rerank_spaces.py`). A pool wider than the candidates the slider scales on (``relevance_top``:
the app, the CLI and the frontier re-rank the top 400, scaled on the top 100) lets a high trade-off reach
items of categories the top 100 lacks; at t = 0 the list is still exactly the top k.
Ties break deterministically: higher score first, then lower input index.
The methods choose which k items make the list; the list is then shown in score order (its ILD and
category mix do not depend on the order, and its NDCG is best that way: on the demo's selection users,
marginal-ILD at category ILD@10 0.93 kept 0.049 NDCG@10 in score order against 0.042 in pick order).

Methods
-------
``mmr``  Maximal Marginal Relevance (Carbonell & Goldstein 1998): greedily take the candidate
         maximising ``(1 - t) * s_i - t * max_{j in S} cos(v_i, v_j)``. Gain = 1 - that max cosine.
``dpp``  Greedy MAP inference for a DPP with incremental Cholesky updates (Chen, Zhang & Zhou,
         NeurIPS 2018), kernel ``L = diag(q) S diag(q)``, ``S = V V^T``, ``q = exp(alpha * s)``,
         ``alpha = (1 - t) / (2 t)`` (their theta = 1 - t). Because the Cholesky factor of L is
         diag(q) times that of S, we run the updates on S and add ``2 alpha s_i`` in log space:
         same picks as on L, but no overflow for large alpha. Cost O(N k (k + d)), not O(N k^3).
         ``window=w`` is their sliding-window variant (diversity only against the last w - 1
         picks, the Cholesky factor down-dated with Givens rotations) for long lists.
         Gain = the candidate's residual ``d_i^2`` in S (1 - squared cosine to the span of the
         picks): the share of its direction that is new.
``ild``  Marginal intra-list diversity: greedily take the candidate maximising
         ``(1 - t) * s_i - t * mean_{j in S} cos(v_i, v_j)``: MMR with the mean in place of the max, so
         each pick pays for exactly what it takes from the list's ILD (the measure people are shown).
         Gain = 1 - that mean cosine.
``calibration``  Steck (RecSys 2018): match the list's genre mix to the user's, maximising
         ``(1 - t) * sum s - t * KL(p || q~)`` greedily; needs ``genres`` and ``target``.
         Gain = the drop in KL when the item was added.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METHODS = ("mmr", "dpp", "calibration", "ild")
POOL_WIDEN = 4      # front ends re-rank POOL_WIDEN x the candidates the slider's relevance is scaled on
_FLOOR = 1e-12      # residuals below this count as "already in the span" (log stays finite)
_DEGENERATE = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-5}  # residual "in the span", per precision


@dataclass(frozen=True)
class RerankResult:
    """The re-ranked list, as indices into the candidate arrays, with what each pick brought."""
    order: np.ndarray       # (k,) int64 indices into the candidates, best first
    relevance: np.ndarray   # (k,) normalised score in [0, 1] of each pick
    gain: np.ndarray        # (k,) diversity gain at the moment of the pick (method-specific, see module doc)
    promoted: np.ndarray    # (k,) bool: not in the top-k by score alone (the re-ranker brought it in)
    picked: np.ndarray | None = None   # (k,) the same items in the order the method picked them


def normalise_scores(scores: np.ndarray, top: int | None = None) -> np.ndarray:
    """Min-max to [0, 1] within the candidates (all ones when every score is equal); with ``top``, within the
    ``top`` best only: the candidates below them get negative relevance (a wider pool for diversity that does
    not change what a trade-off means for the first ``top``)."""
    s = np.asarray(scores, dtype=np.float64)
    hi = float(s.max())
    lo = float(s.min()) if top is None or top >= len(s) else float(np.partition(s, len(s) - top)[len(s) - top])
    if not np.isfinite(lo) or not np.isfinite(hi):
        raise ValueError("scores must be finite")
    return (s - lo) / (hi - lo) if hi > lo else np.ones_like(s)


def rank_relevance(scores: np.ndarray, top: int | None = None) -> np.ndarray:
    """Each candidate's DCG discount at its score rank, 1 / log2(rank + 2), scaled to [0, 1] over the best
    ``top`` (all when None): the candidates below them get negative relevance. Ties rank by input order."""
    s = np.asarray(scores, dtype=np.float64)
    if not np.all(np.isfinite(s)):
        raise ValueError("scores must be finite")
    n = len(s)
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(-s, kind="stable")] = np.arange(n)
    rel = 1.0 / np.log2(rank + 2.0)
    last = n if top is None or top >= n else int(top)
    lo = 1.0 / np.log2(last + 1.0)
    return (rel - lo) / (1.0 - lo) if last > 1 else np.ones(n)


def rerank(scores: np.ndarray, vectors: np.ndarray | None, k: int, tradeoff: float, method: str = "mmr", *,
           window: int | None = None, genres: np.ndarray | None = None,
           target: np.ndarray | None = None, relevance_top: int | None = None,
           relevance: str = "rank") -> RerankResult:
    """Re-rank N candidates (``scores`` (N,), unit-row ``vectors`` (N, d)) into a list of ``k``.

    ``genres`` (N, G) and ``target`` (G,) are only used by ``method="calibration"``;
    ``window`` only by ``"dpp"``. ``relevance``: "rank" (default) or "score" (see the module doc);
    ``relevance_top``: scale relevance on the best ``relevance_top`` candidates only (a wider pool)."""
    scores = np.asarray(scores)
    n = scores.shape[0]
    k = int(min(k, n))
    t = float(tradeoff)
    if not 0.0 <= t <= 1.0:
        raise ValueError(f"tradeoff must be in [0, 1], got {tradeoff}")
    if method not in METHODS:
        raise ValueError(f"unknown re-ranking method {method!r}; choose one of {', '.join(METHODS)}")
    if k <= 0:
        e = np.zeros(0)
        return RerankResult(np.zeros(0, dtype=np.int64), e, e, np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64))
    s = normalise_scores(scores, relevance_top) if relevance == "score" else \
        rank_relevance(scores, relevance_top)
    # Work in score order (stable) so that argmax's first-index rule is the documented tie-break.
    perm = None
    if n > 1 and not bool(np.all(s[:-1] >= s[1:])):
        perm = np.argsort(-s, kind="stable")
        s = s[perm]
    if method == "calibration":
        if genres is None or target is None:
            raise ValueError("calibration needs the candidates' genres and the user's target genre mix")
        g = np.asarray(genres, dtype=np.float64)
        order, gain = _calibration(s, g if perm is None else g[perm], np.asarray(target, dtype=np.float64), k, t)
    else:
        if vectors is None:
            raise ValueError(f"{method} needs item vectors")
        v = np.asarray(vectors)
        if v.dtype not in (np.float32, np.float64):
            v = v.astype(np.float32)
        if perm is not None:
            v = v[perm]
        if method == "mmr":
            order, gain = _mmr(s, v, k, t)
        elif method == "ild":
            order, gain = _marginal_ild(s, v, k, t)
        else:
            order, gain = _dpp(s, v, k, t, window)
    picked = order if perm is None else perm[order]
    if window is None or method != "dpp":
        # the chosen set in score order (s is sorted): the same ILD and category mix, a better NDCG (a
        # sliding-window DPP keeps its pick order: its diversity is about neighbours in the list)
        by_score = np.argsort(order, kind="stable")
        order, gain = order[by_score], gain[by_score]
    relevance = s[order]
    promoted = order >= k          # in score order, positions >= k were outside the plain top-k
    if perm is not None:
        order = perm[order]
    return RerankResult(order.astype(np.int64), relevance, gain, promoted, np.asarray(picked, dtype=np.int64))


def _mmr(s: np.ndarray, v: np.ndarray, k: int, t: float) -> tuple[np.ndarray, np.ndarray]:
    n = s.shape[0]
    lam = 1.0 - t
    rel = lam * s
    maxsim = np.full(n, -np.inf, dtype=v.dtype)
    obj = np.empty(n)
    order = np.empty(k, dtype=np.int64)
    gain = np.empty(k)
    j = 0                                   # empty list: the diversity term is 0 for all, score decides
    for step in range(k):
        order[step] = j
        gain[step] = 1.0 if step == 0 else 1.0 - float(maxsim[j])
        if step == k - 1:
            break
        np.maximum(maxsim, v @ v[j], out=maxsim)
        np.multiply(maxsim, -t, out=obj)
        obj += rel
        obj[order[:step + 1]] = -np.inf
        j = int(np.argmax(obj))
    return order, gain


def _marginal_ild(s: np.ndarray, v: np.ndarray, k: int, t: float) -> tuple[np.ndarray, np.ndarray]:
    n = s.shape[0]
    rel = (1.0 - t) * s
    total = np.zeros(n, dtype=np.float64)      # sum of cosines to the picks so far
    order = np.empty(k, dtype=np.int64)
    gain = np.empty(k)
    taken = np.zeros(n, dtype=bool)
    j = 0
    for step in range(k):
        order[step] = j
        taken[j] = True
        gain[step] = 1.0 if step == 0 else 1.0 - float(total[j]) / step
        if step == k - 1:
            break
        total += v @ v[j]
        obj = rel - t * total / (step + 1)
        obj[taken] = -np.inf
        j = int(np.argmax(obj))
    return order, gain


def _dpp(s: np.ndarray, v: np.ndarray, k: int, t: float, window: int | None) -> tuple[np.ndarray, np.ndarray]:
    n = s.shape[0]
    forced = t == 0.0                       # alpha = inf: relevance order, residuals still reported
    rel = np.zeros(n) if forced else (1.0 - t) / t * s     # 2 * alpha * s = log q^2
    dt = v.dtype                            # float32 vectors: float32 updates (2x less memory traffic)
    d2 = np.einsum("ij,ij->i", v, v)        # diag(S): 1 for unit rows, 0 for empty ones
    if window is not None and window < 2:
        raise ValueError("the DPP window must hold at least 2 items")
    use_window = window is not None and window < k
    c = np.zeros((k, n), dtype=dt)          # Cholesky rows: c[m, i] = e_i at update m
    chol = np.zeros((k, k)) if use_window else None
    order = np.empty(k, dtype=np.int64)
    gain = np.empty(k)
    taken = np.zeros(n, dtype=bool)
    obj = np.empty(n, dtype=dt)
    rel = rel.astype(dt)
    degenerate = _DEGENERATE[np.dtype(dt)]
    m = 0                                    # rows of c in use (full variant)
    left = 0                                 # first row in the window (window variant)
    j = 0 if forced else int(np.argmax(rel + np.log(np.maximum(d2, _FLOOR))))
    for step in range(k):
        order[step] = j
        taken[j] = True
        gain[step] = max(float(d2[j]), 0.0)
        if step == k - 1:
            break
        if use_window:
            if d2[j] < degenerate:          # in the window's span: fill the rest by relevance
                rest = np.flatnonzero(~taken)[: k - step - 1]
                order[step + 1:] = rest
                gain[step + 1:] = np.maximum(d2[rest], 0.0)
                break
            ci = c[left:step, j].copy()
            di = np.sqrt(d2[j])
            chol[step, left:step] = ci
            chol[step, step] = di
            e = (v @ v[j] - ci @ c[left:step]) / di
            c[step] = e
            d2 -= e * e
            if step + 1 >= window:
                left += 1
                _slide(chol, c, left, step)
                d2 += c[left - 1] ** 2
        elif d2[j] >= degenerate:           # a pick already in the span adds no row (det stays ~0)
            e = (v @ v[j] - c[:m, j] @ c[:m]) / np.sqrt(d2[j])
            c[m] = e
            m += 1
            d2 -= e * e
        if forced:
            j = step + 1
            continue
        np.maximum(d2, _FLOOR, out=obj)
        np.log(obj, out=obj)
        obj += rel
        obj[taken] = -np.inf
        j = int(np.argmax(obj))
    return order, gain


def _slide(chol: np.ndarray, c: np.ndarray, left: int, last: int) -> None:
    """Drop item ``left - 1`` from the window: Givens rotations on the Cholesky factor (rows
    ``left..last``) and on the candidate rows ``c``, as in Chen et al.'s sliding-window algorithm."""
    old = left - 1
    for ind in range(left, last + 1):
        a, b = chol[ind, ind], chol[ind, old]
        r = np.hypot(a, b)
        cos, sin = r / a, b / a
        chol[ind, ind] = r
        lo, hi = ind + 1, last + 1
        chol[lo:hi, ind] += sin * chol[lo:hi, old]
        chol[lo:hi, ind] /= cos
        chol[lo:hi, old] *= cos
        chol[lo:hi, old] -= sin * chol[lo:hi, ind]
        c[ind] += sin * c[old]
        c[ind] /= cos
        c[old] *= cos
        c[old] -= sin * c[ind]


def _calibration(s: np.ndarray, genres: np.ndarray, target: np.ndarray, k: int,
                 t: float, alpha: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    n = s.shape[0]
    rowsum = genres.sum(axis=1, keepdims=True)
    pg = np.divide(genres, rowsum, out=np.zeros_like(genres), where=rowsum > 0)   # p(g | i)
    p = target / target.sum() if target.sum() > 0 else np.full(target.shape, 1.0 / max(len(target), 1))
    support = p > 0
    pp = p[support]
    pg_s = pg[:, support]

    def kl(qmix: np.ndarray) -> np.ndarray:
        q = (1 - alpha) * qmix + alpha * pp
        return (pp * np.log(pp / q)).sum(axis=-1)

    acc = np.zeros(int(support.sum()))
    taken = np.zeros(n, dtype=bool)
    order = np.empty(k, dtype=np.int64)
    gain = np.empty(k)
    before = float(kl(np.zeros_like(pp)))
    for step in range(k):
        after_all = kl((acc + pg_s) / (step + 1))
        if t == 0.0:
            j = step
        else:
            obj = (1 - t) * s - t * after_all
            obj[taken] = -np.inf
            j = int(np.argmax(obj))
        order[step] = j
        taken[j] = True
        after = float(after_all[j])
        gain[step] = before - after
        before = after
        acc += pg_s[j]
    return order, gain
