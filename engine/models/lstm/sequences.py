"""Training examples and model inputs as numpy arrays: each positive is a target, the user's previous
L interactions (any rating, time order) are its history. Items are 1-based here; 0 is padding,
at the end of each row (right-padded)."""
from __future__ import annotations

import numpy as np

from engine.data.dataset import Dataset
from engine.data.split import time_order


def rating_feature(ratings: np.ndarray, rating_min: float | None, rating_max: float | None) -> np.ndarray:
    """Ratings scaled to [0, 1]; unrated (NaN) and implicit data count as 1 (a positive signal)."""
    r = np.asarray(ratings, np.float32)
    if rating_min is None or rating_max is None or rating_max <= rating_min:
        return np.where(np.isnan(r), 1.0, np.clip(r, 0, 1)).astype(np.float32) if r.size else r
    out = (r - rating_min) / (rating_max - rating_min)
    return np.where(np.isnan(out), 1.0, out).astype(np.float32)



def build_examples(ds: Dataset, max_len: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(hist (N, L) int32, hist_rating (N, L) float32, target (N,) int32), right-padded, vectorised:
    one example per positive interaction that has at least one earlier interaction."""
    order = time_order(ds)
    users = ds.user_idx[order]
    items = ds.item_idx[order].astype(np.int32) + 1
    feats = rating_feature(ds.rating[order], ds.info.rating_min, ds.info.rating_max)
    positive = ds.positive_mask()[order]
    n = len(order)
    first = np.ones(n, bool)
    first[1:] = users[1:] != users[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    keep = positive & ~first
    rows = np.flatnonzero(keep)
    idx = rows[:, None] - max_len + np.arange(max_len)[None, :]
    valid = idx >= start[rows][:, None]
    idx = np.where(valid, idx, 0)
    hist = np.where(valid, items[idx], 0).astype(np.int32)
    hist_r = np.where(valid, feats[idx], 0.0).astype(np.float32)
    # right-pad (real steps first): a masked LSTM gives the same state either way, and Keras can use
    # cuDNN on a GPU only for right-padded sequences
    shift = (np.arange(max_len)[None, :] + (max_len - valid.sum(1))[:, None]) % max_len
    return np.take_along_axis(hist, shift, 1), np.take_along_axis(hist_r, shift, 1), items[rows]


def window(items: np.ndarray, ratings: np.ndarray | None, max_len: int, rating_min: float | None,
           rating_max: float | None) -> tuple[np.ndarray, np.ndarray]:
    """The last `max_len` interactions of one history as a right-padded (1-based items, features) pair."""
    items = np.asarray(items, np.int64)[-max_len:] if max_len else np.asarray(items, np.int64)
    if ratings is None:
        feats = np.ones(len(items), np.float32)
    else:
        feats = rating_feature(np.asarray(ratings, np.float32)[-max_len:], rating_min, rating_max)
    h = np.zeros(max_len, np.int32)
    r = np.zeros(max_len, np.float32)
    if len(items):
        h[:len(items)] = items + 1
        r[:len(items)] = feats
    return h, r


def user_inputs(item_matrix: np.ndarray, hist: np.ndarray, hist_r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """User-tower input (B, L, d + 2): the item vectors, the rating feature and a presence flag; zero rows
    where padded (the Keras Masking layer and the numpy tower both skip them). Returns (seq, mask)."""
    mask = hist > 0
    vecs = item_matrix[np.maximum(hist - 1, 0)] * mask[..., None]
    m = mask.astype(np.float32)[..., None]
    return np.concatenate([vecs, hist_r[..., None] * m, m], axis=-1).astype(np.float32), mask
