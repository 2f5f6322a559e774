"""Summary figures of one dataset: the app's Datasets view and `llmrec stats` (plain numpy; streamed)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.data.aggregates import dataset_counts, genre_counts
from engine.store import repository as repo


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
    with store.session() as s:
        info = repo.get_dataset(s, dataset_id)
    c = dataset_counts(store, info.id, info.positive_threshold, progress=progress, cancel=cancel)
    return DatasetStats(info.id, info.name, info.n_users, info.n_items, c.n_interactions, c.n_positives,
                        c.rating_values, c.rating_counts, np.sort(c.per_item)[::-1], np.sort(c.per_user)[::-1],
                        genre_counts(store, info.id), split_summary(c.split_stats), info.genres_label)


def split_summary(stats: dict) -> dict:
    """The docs/evaluation.md holdout in numbers (time_split's stats, as summed by the streamed counts)."""
    return {"evaluated users": int(stats["evaluated_users"]), "train interactions": int(stats["train_rows"]),
            "test positives": int(stats["test_positives"]),
            "rule": "per user: last 20% of positives (time order) to TEST; users with < 5 positives not evaluated"}


def long_tail(counts: np.ndarray) -> dict:
    """The long tail of per-item (or per-user) counts in a few numbers: the plot's shape, said in words
    for the CLI (most, median, fewest, and how much of the total the busiest fifth holds)."""
    c = np.sort(np.asarray(counts, dtype=np.int64))[::-1]
    if not len(c):
        return {"max": 0, "median": 0.0, "min": 0, "top_20pct_share": 0.0}
    top = c[:max(1, int(np.ceil(0.2 * len(c))))].sum()
    return {"max": int(c[0]), "median": float(np.median(c)), "min": int(c[-1]),
            "top_20pct_share": round(float(top / c.sum()), 4) if c.sum() else 0.0}


def top_categories(genres: list[tuple[str, int]], limit: int = 10) -> list[tuple[str, int]]:
    """The most frequent genres (categories) first; past `limit`, the rest folded into one entry that
    says how many (never dropped silently)."""
    if len(genres) <= limit:
        return list(genres)
    rest = genres[limit - 1:]
    return list(genres[:limit - 1]) + [(f"{len(rest)} others", sum(c for _, c in rest))]


def stats_record(st: DatasetStats, categories: int = 10) -> dict:
    """The figures of the Datasets view as plain data (`llmrec stats --json`)."""
    histogram = [{"rating": float(v), "count": int(n)} for v, n in zip(st.rating_values, st.rating_counts)]
    return {"id": st.dataset_id, "name": st.name, "n_users": st.n_users, "n_items": st.n_items,
            "n_interactions": st.n_interactions, "n_positives": st.n_positives, "rating_histogram": histogram,
            "per_item": long_tail(st.per_item), "per_user": long_tail(st.per_user),
            "genres_label": st.genres_label,
            "top_categories": [{"name": g, "items": int(n)} for g, n in top_categories(st.genres, categories)],
            "split": dict(st.split)}
