"""Counts over a dataset's interactions, streamed over blocks of whole users (bounded memory): what the
explorer and the Datasets view need of a 25M-interaction table without holding it. The holdout is per
user (engine.data.split), so each block is split exactly as the whole dataset is, and the counts add up
to the whole dataset's."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..jobs import check
from ..types import StepProgress
from .dataset import FETCH_ROWS, Dataset, interaction_blocks
from .split import item_id_rank, time_split

STAT_KEYS = ("evaluated_users", "test_positives", "train_rows", "train_positives", "dropped")


@dataclass
class InteractionCounts:
    per_user: np.ndarray            # (n_users,) interactions per user
    per_item: np.ndarray            # (n_items,) interactions per item
    item_positives: np.ndarray      # (n_items,) positives per item (the `threshold` given)
    item_train_positives: np.ndarray  # (n_items,) TRAIN positives per item under the holdout
    test_users: np.ndarray          # (int32) evaluated users, ascending (time_split's test_users)
    rating_values: np.ndarray       # distinct ratings (NaN, i.e. unrated, left out)
    rating_counts: np.ndarray
    n_interactions: int
    n_positives: int
    split_stats: dict = field(default_factory=dict)   # time_split's stats, summed over the blocks


def interaction_counts(store, ds: Dataset, threshold: float | None, *, rank: np.ndarray | None = None,
                       rows: int = FETCH_ROWS, progress=None, cancel=None) -> InteractionCounts:
    """Stream `ds`'s interactions from the store (ds: its users and catalogue; its interactions need not be
    loaded) and count them, positives judged with `threshold`. Memory: the per-user and per-item arrays plus
    one block of about `rows` interactions."""
    n_users, n_items = ds.n_users, ds.n_items
    rank = item_id_rank(ds) if rank is None else rank
    per_user = np.zeros(n_users, np.int64)
    per_item = np.zeros(n_items, np.int64)
    item_pos = np.zeros(n_items, np.int64)
    item_train_pos = np.zeros(n_items, np.int64)
    ratings: dict[float, int] = {}
    stats = dict.fromkeys(STAT_KEYS, 0)
    test_users, n, n_pos = [], 0, 0
    total = ds.info.n_interactions or 1
    for users, items, rating, ts in interaction_blocks(store, ds.info.id, rows):
        check(cancel)
        u0, u1 = int(users[0]), int(users[-1]) + 1
        block = Dataset(ds.info, np.empty(u1 - u0, dtype=object), ds.item_ids, (), (), (),
                        users - u0, items, rating, ts, threshold)
        sp = time_split(block, rank=rank)
        per_user[u0:u1] += np.bincount(block.user_idx, minlength=u1 - u0)
        per_item += np.bincount(items, minlength=n_items)
        pos = block.positive_mask()
        item_pos += np.bincount(items[pos], minlength=n_items)
        tpos = sp.train.positive_mask()
        item_train_pos += np.bincount(sp.train.item_idx[tpos], minlength=n_items)
        test_users.append(sp.test_users + u0)
        for k in STAT_KEYS:
            stats[k] += sp.stats[k]
        v, c = np.unique(rating[~np.isnan(rating)], return_counts=True)
        for a, b in zip(v.tolist(), c.tolist()):
            ratings[a] = ratings.get(a, 0) + b
        n += len(users)
        n_pos += int(pos.sum())
        if progress is not None:
            progress(StepProgress("counting interactions", min(n, total), total))
    stats = dict(users=int(n_users), **{k: int(v) for k, v in stats.items()}, items=int(n_items))
    values = np.array(sorted(ratings), dtype=np.float32)
    return InteractionCounts(per_user, per_item, item_pos, item_train_pos,
                             np.concatenate(test_users).astype(np.int32) if test_users else np.zeros(0, np.int32),
                             values, np.array([ratings[v] for v in sorted(ratings)], dtype=np.int64), n, n_pos,
                             stats)
