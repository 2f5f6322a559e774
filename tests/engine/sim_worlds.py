"""Small simulation worlds where the right answer is known (tests/engine/test_simulation.py)."""
from __future__ import annotations

import datetime

import numpy as np

from engine.data.dataset import Dataset
from engine.types import DatasetInfo

PER_CLUSTER = 50


def two_cluster_dataset(n_users: int = 120, a_per_user: int = 4, b_per_user: int = 2) -> Dataset:
    """Items 0..49 are cluster A (genre "A"), 50..99 cluster B; every user has interactions in both,
    more in A. Users take consecutive items of each cluster in turn, so the counts within a cluster differ
    by at most one: with 5 A and 1 B per user every A item starts more popular than every B item.
    Unrated: every interaction is a positive."""
    n_items = 2 * PER_CLUSTER
    users, items = [], []
    for u in range(n_users):
        picks = np.concatenate([(u * a_per_user + np.arange(a_per_user)) % PER_CLUSTER,
                                PER_CLUSTER + (u * b_per_user + np.arange(b_per_user)) % PER_CLUSTER])
        users += [u] * len(picks)
        items += picks.tolist()
    n = len(users)
    info = DatasetInfo(id=1, name="two clusters", n_users=n_users, n_items=n_items, n_interactions=n,
                       rating_min=None, rating_max=None, positive_threshold=None, source={}, import_report={},
                       created_at=datetime.datetime(2026, 1, 1))
    return Dataset(info, np.array([f"u{u}" for u in range(n_users)], dtype=object),
                   np.array([f"i{i}" for i in range(n_items)], dtype=object),
                   [f"item {i}" for i in range(n_items)],
                   [("A",) if i < PER_CLUSTER else ("B",) for i in range(n_items)], [""] * n_items,
                   np.array(users, np.int32), np.array(items, np.int32), np.full(n, np.nan, np.float32),
                   np.arange(n, dtype=np.int64))


def write_two_clusters(store, name: str = "two clusters", n_users: int = 80) -> int:
    """The same world written to a store (for the service, storage and CLI tests); returns its id."""
    from engine.data.dataset import write_dataset
    ds = two_cluster_dataset(n_users, a_per_user=5, b_per_user=3)
    return write_dataset(store, name, user_ids=list(ds.user_ids), item_ids=list(ds.item_ids), titles=list(ds.titles),
                         genres=ds.genres, descriptions=list(ds.descriptions), user_idx=ds.user_idx,
                         item_idx=ds.item_idx, rating=None, timestamp=ds.timestamp, rating_min=None, rating_max=None,
                         positive_threshold=None, source={"kind": "test"})
