"""Counts over a dataset's interactions, streamed over blocks of whole users (bounded memory): what the
explorer and the Datasets view need of a 25M-interaction table without holding it. The holdout is per
user (engine.data.split), so each block is split exactly as the whole dataset is, and the counts add up
to the whole dataset's. `dataset_counts` keeps them in a small file under the store's artifact folder,
so the explorer and the Datasets view share one pass, once per dataset (and threshold)."""
from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path
from dataclasses import dataclass, field

import numpy as np

from ..jobs import check
from ..types import StepProgress
from .dataset import Dataset, interaction_blocks
from .split import item_id_rank, time_split

BLOCK_ROWS = 200_000          # interactions per block: ~40 MB of row tuples while converting
_STREAMING = threading.Lock()   # one stream at a time per process (the explorer's and the Datasets view's)
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
    item_rank: np.ndarray | None = None               # item_id_rank (int32): the split's tie-break order


def interaction_counts(store, ds: Dataset, threshold: float | None, *, rank: np.ndarray | None = None,
                       rows: int = BLOCK_ROWS, progress=None, cancel=None) -> InteractionCounts:
    """Stream `ds`'s interactions from the store (ds: its users and catalogue; its interactions need not be
    loaded) and count them, positives judged with `threshold`. Memory: the per-user and per-item arrays plus
    one block of about `rows` interactions (one stream at a time in a process: a second one waits)."""
    with _STREAMING:
        return _counts(store, ds, threshold, rank, rows, progress, cancel)


def _counts(store, ds, threshold, rank, rows, progress, cancel) -> InteractionCounts:
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
                             stats, rank.astype(np.int32 if n_items < 2**31 else np.int64))


_ARRAYS = ("per_user", "per_item", "item_positives", "item_train_positives", "test_users", "rating_values",
           "rating_counts")
_VERSION = "2"      # bump when the file's contents change


def counts_path(store, dataset_id: int, threshold: float | None) -> Path:
    t = "all" if threshold is None else repr(float(threshold))
    return Path(store.artifact_root) / "counts" / f"dataset-{int(dataset_id)}" / f"threshold-{t}.npz"


def dataset_counts(store, dataset_id: int, threshold: float | None, progress=None, cancel=None) -> InteractionCounts:
    """`interaction_counts` of the stored dataset, read back from `counts_path` when that file was written
    for the same dataset (id, name, creation time and sizes: an append recounts); else streamed (users and
    item ids loaded, no texts) and saved there (a temporary name, then renamed). Under the stream lock, so a
    second caller waits for the first and reads its file instead of streaming again."""
    from ..storage import repository as repo
    from .dataset import load_dataset
    with store.session() as s:
        info = repo.get_dataset(s, dataset_id)
    key = np.array([f"{_VERSION}|{info.id}|{info.name}|{info.created_at}|{info.n_users}|{info.n_items}|"
                    f"{info.n_interactions}"])
    file = counts_path(store, info.id, threshold)
    with _STREAMING:
        try:
            with np.load(file, allow_pickle=False) as z:
                if np.array_equal(z["key"], key):
                    stats = dict(zip(z["stat_keys"].tolist(), z["stat_values"].tolist()))
                    return InteractionCounts(*(z[k] for k in _ARRAYS), int(z["n"][0]), int(z["n"][1]), stats,
                                             z["item_rank"])
        except (OSError, KeyError, ValueError):
            pass
        ds = load_dataset(store, info.id, with_text=False, with_interactions=False)
        c = _counts(store, ds, threshold, None, BLOCK_ROWS, progress, cancel)
        del ds
    tmp = file.with_name(f".{file.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            np.savez(f, key=key, n=np.array([c.n_interactions, c.n_positives], np.int64), item_rank=c.item_rank,
                     stat_keys=np.array(list(c.split_stats)), stat_values=np.array(list(c.split_stats.values())),
                     **{k: getattr(c, k) for k in _ARRAYS})
        os.replace(tmp, file)
    except OSError:          # a read-only folder: count again next time
        tmp.unlink(missing_ok=True)
    return c


def genre_counts(store, dataset_id: int) -> list[tuple[str, int]]:
    """(genre, number of items) most frequent first, ties in order of first appearance (what
    Counter(g for gs in dataset.genres for g in gs).most_common() gives), by one GROUP BY over the items:
    no catalogue loaded. Each distinct genre string is read in the order of its first item, so a genre is
    first met at its first item, as in the item-by-item count."""
    from collections import Counter

    from .dataset import _select
    counter: Counter = Counter()
    with store.engine.connect() as conn:
        cur = _select(store, conn, "SELECT genres, COUNT(*), MIN(idx) AS first FROM items WHERE dataset_id=? "
                      "GROUP BY genres ORDER BY first", (int(dataset_id),))
        for g, n, _first in cur.fetchall():
            for x in (g or "").split("|"):
                if x:
                    counter[x] += int(n)
    return counter.most_common()
