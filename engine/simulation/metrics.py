"""Per-round measures of one policy's world. Each takes plain arrays for all simulated users of the round:
``shown`` (U, k) item indices, ``chosen`` (U,) item index or -1 for nothing, ``utility`` (U, n_items)."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from engine.evaluation.metrics import gini

METRICS = ("utility", "cumulative_utility", "choice_rate", "ndcg", "coverage", "gini_exposure",
           "pop_shown", "pop_consumed", "ild", "homogenisation", "homogenisation_ideal", "homogenisation_vs_ideal")
LABELS = {
    "utility": "Mean true utility consumed (per user, this round)",
    "cumulative_utility": "Cumulative true utility (per user)",
    "choice_rate": "Share of users who chose an item",
    "ndcg": "NDCG@k against the oracle",
    "coverage": "Catalogue coverage of the lists",
    "gini_exposure": "Gini of exposure",
    "pop_shown": "Mean popularity shown (TRAIN positives)",
    "pop_consumed": "Mean popularity consumed (TRAIN positives)",
    "ild": "Intra-list diversity",
    "homogenisation": "Homogenisation (mean Jaccard of consumed sets)",
    "homogenisation_ideal": "Homogenisation under the ideal recommender (the oracle's own top-k)",
    "homogenisation_vs_ideal": "Homogenisation minus the ideal recommender's (Chaney et al.)",
}


def consumed_utility(utility_rows: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """(U,) true utility of what each user consumed this round; 0 for nothing."""
    rows = np.arange(len(chosen))
    return np.where(chosen >= 0, utility_rows[rows, np.maximum(chosen, 0)], 0.0)


def ndcg_against_oracle(shown_utility: np.ndarray, ideal_utility: np.ndarray) -> np.ndarray:
    """(U,) graded NDCG of the lists: gain = max(true utility, 0), ideal = the user's best unseen items."""
    k = shown_utility.shape[1]
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (np.maximum(shown_utility, 0.0) * disc).sum(axis=1)
    ideal = -np.sort(-np.maximum(ideal_utility, 0.0), axis=1)[:, :k]
    idcg = (ideal * disc[:ideal.shape[1]]).sum(axis=1)
    return np.divide(dcg, idcg, out=np.zeros_like(dcg), where=idcg > 0)


def coverage(shown: np.ndarray, n_items: int) -> float:
    """Distinct items shown to anyone this round / catalogue size."""
    return float(len(np.unique(shown)) / n_items) if n_items else 0.0


def exposure_counts(shown: np.ndarray, n_items: int) -> np.ndarray:
    return np.bincount(shown.reshape(-1), minlength=n_items)


def exposure_gini(shown: np.ndarray, n_items: int) -> float:
    """Gini of how often each catalogue item was shown this round (0 even, 1 all on one item)."""
    return gini(exposure_counts(shown, n_items))


def mean_popularity(items: np.ndarray, popularity: np.ndarray) -> float:
    items = np.asarray(items).reshape(-1)
    items = items[items >= 0]
    return float(popularity[items].mean()) if len(items) else float("nan")


def homogenisation(consumed: sp.csr_matrix, pairs: np.ndarray) -> float:
    """Mean Jaccard overlap of the consumed sets of the given user pairs (P, 2) (Chaney et al. 2018);
    pairs where neither consumed anything are left out (NaN when all are)."""
    if len(pairs) == 0:
        return float("nan")
    a, b = consumed[pairs[:, 0]], consumed[pairs[:, 1]]
    inter = np.asarray(a.multiply(b).sum(axis=1)).ravel()
    union = np.diff(a.indptr) + np.diff(b.indptr) - inter
    ok = union > 0
    return float((inter[ok] / union[ok]).mean()) if ok.any() else float("nan")


def user_pairs(n_users: int, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
    """(P, 2) distinct random user pairs (a != b); every pair when there are fewer than asked."""
    if n_users < 2:
        return np.zeros((0, 2), dtype=np.int64)
    total = n_users * (n_users - 1) // 2
    if total <= n_pairs:
        a, b = np.triu_indices(n_users, 1)
        return np.stack([a, b], axis=1).astype(np.int64)
    a = rng.integers(0, n_users, n_pairs)
    b = (a + rng.integers(1, n_users, n_pairs)) % n_users
    return np.stack([a, b], axis=1).astype(np.int64)
