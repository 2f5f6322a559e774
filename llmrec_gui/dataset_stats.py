"""Summary figures of one dataset for the Datasets view (plain numpy, runs in a worker)."""
from __future__ import annotations

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


def compute_stats(store, dataset_id: int, progress=None, cancel=None) -> DatasetStats:
    """The figures from aggregates streamed over blocks of users (engine.data.aggregates, in the store
    process; kept in a small file, shared with the explorer): the interaction table is never held whole
    (25M rows were ~0.5 GB, and the split as much)."""
    from engine.data.aggregates import dataset_counts, genre_counts
    from engine.store import repository as repo
    with store.session() as s:
        info = repo.get_dataset(s, dataset_id)
    c = dataset_counts(store, info.id, info.positive_threshold, progress=progress, cancel=cancel)
    return DatasetStats(info.id, info.name, info.n_users, info.n_items, c.n_interactions, c.n_positives,
                        c.rating_values, c.rating_counts, np.sort(c.per_item)[::-1], np.sort(c.per_user)[::-1],
                        genre_counts(store, info.id), split_summary(c.split_stats), info.genres_label)


def split_summary(stats: dict) -> dict:
    """The EVALUATION.md holdout in numbers (time_split's stats, as summed by the streamed counts)."""
    return {"evaluated users": int(stats["evaluated_users"]), "train interactions": int(stats["train_rows"]),
            "test positives": int(stats["test_positives"]),
            "rule": "per user: last 20% of positives (time order) to TEST; users with < 5 positives not evaluated"}
