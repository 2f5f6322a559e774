"""The time-aware split of docs/evaluation.md on hand-made tiny datasets, one rule per test."""
from __future__ import annotations

import numpy as np

from engine.data.dataset import NO_TIMESTAMP, Dataset
from engine.data.split import time_split, validation_split
from engine.types import DatasetInfo


def make_dataset(rows, *, n_users=None, n_items=None, threshold=4.0, item_ids=None, genres=None) -> Dataset:
    """An in-memory Dataset from (user, item, rating, timestamp) rows; rating None = unrated."""
    u = np.array([r[0] for r in rows], dtype=np.int32)
    i = np.array([r[1] for r in rows], dtype=np.int32)
    n_users = n_users or int(u.max()) + 1
    n_items = n_items or int(i.max()) + 1
    rating = np.array([np.nan if r[2] is None else r[2] for r in rows], dtype=np.float32)
    ts = np.array([NO_TIMESTAMP if r[3] is None else r[3] for r in rows], dtype=np.int64)
    ids = item_ids or [f"i{k:04d}" for k in range(n_items)]
    info = DatasetInfo(1, "tiny", n_users, n_items, len(rows), None if threshold is None else 1.0,
                       None if threshold is None else 5.0, threshold)
    return Dataset(info, np.array([f"u{k}" for k in range(n_users)], dtype=object), np.array(ids, dtype=object),
                   [f"title {k}" for k in range(n_items)], genres or [()] * n_items, [""] * n_items,
                   u, i, rating, ts, threshold)


def _train_pairs(split):
    t = split.train
    return sorted(zip(t.user_idx.tolist(), t.item_idx.tolist()))


def test_last_fifth_of_positives_go_to_test_and_later_non_positives_are_dropped():
    # user 0: 10 positives at t=1..10 (items 0..9), a non-positive at t=5 (item 10, kept: <= t_c)
    # and one at t=10 (item 11: == t_c of the last two? no: t_c is t=9), one at t=12 (item 12, dropped)
    rows = [(0, k, 5.0, k + 1) for k in range(10)] + [(0, 10, 2.0, 5), (0, 11, 1.0, 9), (0, 12, 1.0, 12)]
    split = time_split(make_dataset(rows))
    assert split.test_users.tolist() == [0]
    assert split.test_items[0].tolist() == [8, 9]           # floor(0.2 * 10) = 2 last positives
    # t_c = 9 (item 8): the non-positive at t=9 stays (<= t_c), the one at t=12 is dropped
    assert _train_pairs(split) == [(0, k) for k in range(8)] + [(0, 10), (0, 11)]
    assert split.stats["dropped"] == 1 and split.stats["test_positives"] == 2


def test_at_least_one_test_item_and_users_below_five_positives_stay_in_train():
    rows = [(0, k, 4.0, 10 + k) for k in range(5)]            # exactly 5 positives: floor(1.0) = 1 test
    rows += [(1, k, 5.0, 10 + k) for k in range(4)]           # 4 positives: all train, not evaluated
    rows += [(1, 7, 1.0, 99)]                                 # ... even a late non-positive stays
    rows += [(2, k, 3.0, k) for k in range(8)]                # no positives at all
    split = time_split(make_dataset(rows))
    assert split.test_users.tolist() == [0]
    assert split.test_items[0].tolist() == [4]
    pairs = _train_pairs(split)
    assert [p for p in pairs if p[0] == 1] == [(1, 0), (1, 1), (1, 2), (1, 3), (1, 7)]
    assert len([p for p in pairs if p[0] == 2]) == 8
    assert split.stats["evaluated_users"] == 1


def test_threshold_decides_positives():
    rows = [(0, k, 4.0 if k % 2 else 3.5, k) for k in range(12)]   # 6 positives at odd items
    split = time_split(make_dataset(rows))
    assert split.test_items[0].tolist() == [11]                    # floor(1.2) = 1
    split = time_split(make_dataset(rows, threshold=3.0))           # now all 12 are positives
    assert split.test_items[0].tolist() == [10, 11]


def test_ties_on_timestamp_broken_by_item_id_not_index():
    # all five positives at the same time: the test item is the largest external id, not the largest index
    ids = ["0000005", "0000009", "0000001", "0000003", "0000002"]
    rows = [(0, k, 5.0, 100) for k in range(5)]
    split = time_split(make_dataset(rows, item_ids=ids))
    assert split.test_items[0].tolist() == [1]          # "0000009"
    # a non-positive with the same timestamp as t_c is kept in TRAIN
    rows2 = rows + [(0, 5, 1.0, 100)]
    split2 = time_split(make_dataset(rows2, item_ids=ids + ["0000000"]))
    assert (0, 5) in _train_pairs(split2)


def test_numeric_ids_sort_as_numbers():
    ids = ["10", "9", "100", "2", "1"]
    rows = [(0, k, 5.0, 7) for k in range(5)]
    assert time_split(make_dataset(rows, item_ids=ids)).test_items[0].tolist() == [2]   # "100"


def test_unrated_data_every_interaction_positive_and_history_in_time_order():
    rows = [(0, k, None, 50 - k) for k in range(10)]            # item 0 last in time
    split = time_split(make_dataset(rows, threshold=None))
    assert sorted(split.test_items[0].tolist()) == [0, 1]
    items, ratings = split.history(0)
    assert items.tolist() == [9, 8, 7, 6, 5, 4, 3, 2]              # time order, not index order
    assert np.isnan(ratings).all()


def test_validation_split_applies_the_same_rule_to_train():
    rows = [(0, k, 5.0, k) for k in range(15)]
    split = time_split(make_dataset(rows))
    assert split.test_items[0].tolist() == [12, 13, 14]
    val = validation_split(split.train)
    assert val.test_items[0].tolist() == [10, 11]                  # floor(0.2 * 12) = 2
    assert val.train.n_interactions == 10


def demo_dataset(n_items: int = 60, n_users: int = 40, seed: int = 7) -> Dataset:
    """A small in-memory demo dataset (the bundled generator, no database)."""
    from engine.data.demo import generate_demo
    d = generate_demo(n_items=n_items, n_users=n_users, seed=seed)
    info = DatasetInfo(1, "demo-tiny", n_users, n_items, len(d["user_idx"]), 1.0, 5.0, 4.0)
    return Dataset(info, np.array(d["user_ids"], dtype=object), np.array(d["item_ids"], dtype=object), d["titles"],
                   d["genres"], d["descriptions"], d["user_idx"], d["item_idx"], d["rating"], d["timestamp"], 4.0)
