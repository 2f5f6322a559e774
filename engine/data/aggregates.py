"""Counts over a dataset's interactions, streamed over blocks of whole users (bounded memory): what the
explorer and the Datasets view need of a 25M-interaction table without holding it. The holdout is per
user (engine.data.split), so each block is split exactly as the whole dataset is, and the counts add up
to the whole dataset's. `dataset_counts` keeps them in a small file under the store's artifact folder,
so the explorer and the Datasets view share one pass, once per dataset (and threshold)."""
from __future__ import annotations

import os
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.data.dataset import Dataset, _select, interaction_blocks, load_dataset
from engine.data.split import item_id_rank, time_split
from engine.jobs.cancel import check
from engine.store import repository as repo
from engine.store.ownership import database_folder
from engine.types import StepProgress

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
    return _count_blocks(interaction_blocks(store, ds.info.id, rows), ds, threshold, rank, progress, cancel)


def _memory_blocks(ds: Dataset, rows: int):
    """A loaded dataset's interactions as `interaction_blocks` gives the stored ones: views of about `rows`
    interactions holding whole users (the loaded arrays are in user order), so that counting a loaded
    dataset makes only one block's temporaries (time_split's among them), never a whole-table copy."""
    users, n, start = ds.user_idx, ds.n_interactions, 0
    while start < n:
        end = min(start + rows, n)
        if end < n:
            end = int(np.searchsorted(users, users[end], side="left"))
            if end <= start:                           # one user longer than a block: the whole user
                end = int(np.searchsorted(users, users[start], side="right"))
        u = users[start:end]
        if (start and users[start - 1] >= u[0]) or np.any(u[1:] < u[:-1]):
            raise ValueError("interactions not in user order")
        yield u, ds.item_idx[start:end], ds.rating[start:end], ds.timestamp[start:end]
        start = end


def _count_blocks(blocks, ds, threshold, rank, progress, cancel) -> InteractionCounts:
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
    for users, items, rating, ts in blocks:
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
    return database_folder(store, "counts") / f"dataset-{int(dataset_id)}" / f"threshold-{t}.npz"


def _key(info) -> np.ndarray:
    return np.array([f"{_VERSION}|{info.id}|{info.name}|{info.created_at}|{info.n_users}|{info.n_items}|"
                     f"{info.n_interactions}"])


def _read(file: Path, key: np.ndarray) -> InteractionCounts | None:
    """The counts kept in `file` when it was written for `key`; None when absent, stale or damaged."""
    try:
        with np.load(file, allow_pickle=False) as z:
            if np.array_equal(z["key"], key):
                stats = dict(zip(z["stat_keys"].tolist(), z["stat_values"].tolist()))
                return InteractionCounts(*(z[k] for k in _ARRAYS), int(z["n"][0]), int(z["n"][1]), stats,
                                         z["item_rank"])
    except (OSError, KeyError, ValueError):
        pass
    return None


def _write(file: Path, key: np.ndarray, c: InteractionCounts) -> None:
    """Written under a temporary name then renamed: a reader sees the whole file or none, and a failure
    (or an interrupt) while writing leaves nothing behind. A read-only folder: counted again next time."""
    tmp = file.with_name(f".{file.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            np.savez(f, key=key, n=np.array([c.n_interactions, c.n_positives], np.int64), item_rank=c.item_rank,
                     stat_keys=np.array(list(c.split_stats)), stat_values=np.array(list(c.split_stats.values())),
                     **{k: getattr(c, k) for k in _ARRAYS})
        os.replace(tmp, file)
    except OSError:
        pass
    finally:
        tmp.unlink(missing_ok=True)


def dataset_counts(store, dataset_id: int, threshold: float | None, progress=None, cancel=None) -> InteractionCounts:
    """`interaction_counts` of the stored dataset, read back from `counts_path` when that file was written
    for the same dataset (id, name, creation time and sizes: an append recounts); else streamed (users and
    item ids loaded, no texts) and saved there (a temporary name, then renamed). Under the stream lock, so a
    second caller waits for the first and reads its file instead of streaming again."""
    with store.session() as s:
        info = repo.get_dataset(s, dataset_id)
    key = _key(info)
    file = counts_path(store, info.id, threshold)
    with _STREAMING:
        if (kept := _read(file, key)) is not None:
            return kept
        ds = load_dataset(store, info.id, with_text=False, with_interactions=False)
        c = _counts(store, ds, threshold, None, BLOCK_ROWS, progress, cancel)
        del ds
    _write(file, key, c)
    return c


def keep_loaded_counts(store, ds: Dataset, *, progress=None, cancel=None) -> bool:
    """Write `dataset_counts`' file from a dataset already loaded whole (a training run holds it anyway),
    positives judged with its threshold (the one its runs record, which `engine.runs.lean.run_counts` asks
    for), when the file is absent or stale: the first explore open after a training reads it back instead
    of streaming the table. Counted over whole-user blocks of the loaded arrays (one block's temporaries).
    True when written. Interactions not in user order (never so when loaded by load_dataset): nothing."""
    file = counts_path(store, ds.info.id, ds.positive_threshold)
    key = _key(ds.info)
    with _STREAMING:
        if _read(file, key) is not None:
            return False
        try:
            c = _count_blocks(_memory_blocks(ds, BLOCK_ROWS), ds, ds.positive_threshold, None, progress, cancel)
        except ValueError:
            return False
    _write(file, key, c)
    return file.exists()


def genre_counts(store, dataset_id: int) -> list[tuple[str, int]]:
    """(genre, number of items) most frequent first, ties in order of first appearance (what
    Counter(g for gs in dataset.genres for g in gs).most_common() gives), by one GROUP BY over the items:
    no catalogue loaded. Each distinct genre string is read in the order of its first item, so a genre is
    first met at its first item, as in the item-by-item count."""

    counter: Counter = Counter()
    with store.engine.connect() as conn:
        cur = _select(store, conn, "SELECT genres, COUNT(*), MIN(idx) AS first FROM items WHERE dataset_id=? "
                      "GROUP BY genres ORDER BY first", (int(dataset_id),))
        for g, n, _first in cur.fetchall():
            for x in (g or "").split("|"):
                if x:
                    counter[x] += int(n)
    return counter.most_common()
