"""Summary figures of one dataset for the Datasets view (plain numpy, runs in a worker)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class DatasetStats:
    dataset_id: int
    name: str
    n_users: int
    n_items: int
    n_interactions: int
    n_positives: int
    rating_values: np.ndarray        # distinct rating values (empty when implicit)
    rating_counts: np.ndarray
    per_item: np.ndarray             # interactions per item, sorted descending
    per_user: np.ndarray             # interactions per user, sorted descending
    genres: list[tuple[str, int]]    # (genre, n items), most frequent first
    split: dict = field(default_factory=dict)   # the evaluation split's summary (may be empty)
    genres_label: str = "Genres"                # "Categories" when they are not genres (wines)


def compute_stats(store, dataset_id: int) -> DatasetStats:
    from engine.data.dataset import load_dataset
    ds = load_dataset(store, dataset_id, with_text=False)     # counts only: no titles or descriptions
    r = ds.rating[~np.isnan(ds.rating)]
    values, counts = np.unique(r, return_counts=True) if len(r) else (np.zeros(0), np.zeros(0, dtype=int))
    per_item = np.sort(np.bincount(ds.item_idx, minlength=ds.n_items))[::-1]
    per_user = np.sort(np.bincount(ds.user_idx, minlength=ds.n_users))[::-1]
    genres = Counter(g for gs in ds.genres for g in gs).most_common()
    return DatasetStats(ds.info.id, ds.info.name, ds.n_users, ds.n_items, ds.n_interactions,
                        int(ds.positive_mask().sum()), values, counts, per_item, per_user, genres,
                        split_summary(ds), ds.info.genres_label)


def split_summary(ds) -> dict:
    """The EVALUATION.md holdout in numbers; empty when the split module is not available."""
    try:
        from engine.data.split import time_split
    except ImportError:
        return {}
    sp = time_split(ds)
    n_test = int(sum(len(t) for t in sp.test_items))
    return {"evaluated users": int(len(sp.test_users)), "train interactions": int(sp.train.n_interactions),
            "test positives": n_test,
            "rule": "per user: last 20% of positives (time order) to TEST; users with < 5 positives not evaluated"}
