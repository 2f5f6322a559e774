"""The LSTM's training examples, exported once per training set and streamed from memory-mapped files.

An example is a positive interaction with at least one earlier interaction of the same user: its
target is that item, its history the user's previous L interactions. Instead of an (N, L) history
matrix (4 GB at 25M interactions, and tf.data's copy and shuffle buffer on top), the export keeps
the interactions once, in (user, time) order, and each example as a pointer into them:

    items.npy (n,) int32     1-based item of each interaction (0 is padding)
    feats.npy (n,) float32   rating feature of each interaction (sequences.rating_feature)
    pos.npy   (N,) int64     example -> position of its target in `items`
    back.npy  (N,) int32     example -> how many earlier interactions its user has
    id_index.npy, log_q.npy  per item (the id-embedding row, the logQ correction)

A batch's histories are gathered from these at batch time for any L (`TrainingArrays.batch`), so the
export does not depend on L and one export serves every setting the tuner tries. With a cache folder
the files live in `<folder>/<fingerprint of the training set>/` (written under a temporary name, then
renamed; the four most recently used are kept) and are opened with ``mmap_mode="r"``: a re-run on the
same data reuses them, and the training loop's memory does not grow with the number of interactions. The shuffle is a keyed
pseudo-random permutation computed per batch (`permuted`), so it needs no O(N) index either."""
from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...data.dataset import Dataset
from ...data.split import in_time_order, item_id_rank, time_order
from ...errors import EngineError
from .sequences import rating_feature

FILES = ("items", "feats", "pos", "back", "id_index", "log_q")
FORMAT = "examples-v1"


@dataclass
class TrainingArrays:
    """The exported examples (arrays or memory maps) and the catalogue-wide arrays every
    data-parallel worker shares; `pos`/`back` may be one worker's shard."""
    items: np.ndarray
    feats: np.ndarray
    pos: np.ndarray
    back: np.ndarray
    id_index: np.ndarray      # item -> row of the id embedding (0: no TRAIN positive, cold start)
    log_q: np.ndarray         # log sampling probability of each item as a target (logQ correction)
    n_items: int
    folder: Path | None = None   # where the memory-mapped files are (None: in memory)

    def __len__(self) -> int:
        return len(self.pos)

    @property
    def target(self) -> np.ndarray:
        return self.items[self.pos]

    def shard(self, rows: np.ndarray) -> "TrainingArrays":
        return dataclasses.replace(self, pos=np.asarray(self.pos[rows]), back=np.asarray(self.back[rows]))

    def batch(self, rows: np.ndarray, max_len: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(hist (B, L) int32, hist_r (B, L) float32, target (B,) int32) of examples `rows`: the same
        right-padded rows as sequences.build_examples."""
        p = np.asarray(self.pos[rows], np.int64)
        k = np.minimum(np.asarray(self.back[rows], np.int64), max_len)
        steps = np.arange(max_len)[None, :]
        valid = steps < k[:, None]
        idx = np.where(valid, p[:, None] - k[:, None] + steps, 0)
        hist = np.where(valid, self.items[idx], 0).astype(np.int32)
        hist_r = np.where(valid, self.feats[idx], 0.0).astype(np.float32)
        return hist, hist_r, np.asarray(self.items[p], np.int32)

    def batches(self, batch_size: int, max_len: int, seed: int, epoch: int):
        """One epoch of shuffled batches (the last one may be short), as numpy arrays."""
        n = len(self)
        for a in range(0, n, batch_size):
            yield self.batch(permuted(n, seed, epoch, a, min(n, a + batch_size)), max_len)

    @classmethod
    def open(cls, folder: Path) -> "TrainingArrays":
        """Memory-map an export (see the module docstring)."""
        folder = Path(folder)
        maps = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in FILES}
        # the per-item arrays are small and read on every step: keep them in memory
        return cls(maps["items"], maps["feats"], maps["pos"], maps["back"], np.array(maps["id_index"]),
                   np.array(maps["log_q"]), len(maps["id_index"]) - 1, folder)


def permuted(n: int, seed: int, epoch: int, start: int, stop: int) -> np.ndarray:
    """Positions start..stop-1 of a pseudo-random permutation of range(n) keyed by (seed, epoch),
    without an O(n) table: a 4-round Feistel network on the next even power of two, walking each
    value's cycle until it falls inside range(n) (a bijection of range(n); under 4 steps on average)."""
    bits = max(2, int(max(n - 1, 1)).bit_length())
    bits += bits % 2
    half = np.uint64(bits // 2)
    low = np.uint64((1 << (bits // 2)) - 1)
    keys = np.random.default_rng([int(seed) & 0xFFFFFFFF, int(epoch)]).integers(0, 2**63, 4, dtype=np.uint64)
    mult = np.uint64(0x9E3779B97F4A7C15)

    def rounds(x: np.ndarray) -> np.ndarray:
        left, right = x >> half, x & low
        for k in keys:
            mixed = (right ^ k) * mult
            mixed ^= mixed >> np.uint64(29)
            left, right = right, left ^ (mixed & low)
        return (left << half) | right

    with np.errstate(over="ignore"):
        x = rounds(np.arange(start, stop, dtype=np.uint64))
        out = x >= np.uint64(n)
        while out.any():
            x[out] = rounds(x[out])
            out = x >= np.uint64(n)
    return x.astype(np.int64)


def fingerprint(ds: Dataset) -> str:
    """What the export depends on: the interactions, what counts as positive, the catalogue's ids."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{FORMAT} {ds.n_users} {ds.n_items} {ds.n_interactions} {ds.positive_threshold!r}".encode())
    for a in (ds.user_idx, ds.item_idx, ds.rating, ds.timestamp):
        h.update(np.ascontiguousarray(a).data)
    h.update("\n".join(map(str, ds.item_ids)).encode("utf-8"))
    return h.hexdigest()


def compute_examples(ds: Dataset) -> TrainingArrays:
    """The arrays of the module docstring, in memory. Data already in (user, time) order (as loaded)
    is read in place, not gathered through an index; each example's `back` comes from its user's first
    row (a per-user table), not from n-long position arrays."""
    rank = item_id_rank(ds)
    order = None if in_time_order(ds, rank) else time_order(ds, rank)

    def ordered(a: np.ndarray) -> np.ndarray:
        return a if order is None else a[order]

    users = ordered(ds.user_idx)
    items = ordered(ds.item_idx).astype(np.int32) + 1
    feats = rating_feature(ordered(ds.rating), ds.info.rating_min, ds.info.rating_max)
    positive = ordered(ds.positive_mask())
    del order
    n = len(users)
    first = np.ones(n, bool)
    first[1:] = users[1:] != users[:-1]
    positive &= ~first
    del first
    pos = np.flatnonzero(positive)
    del positive
    user_start = np.zeros(ds.n_users + 1, np.int64)   # first row of each user (rows are grouped by user)
    np.cumsum(np.bincount(users, minlength=ds.n_users), out=user_start[1:])
    back = (pos - user_start[users[pos]]).astype(np.int32)
    del user_start, users
    if len(pos) == 0:
        raise EngineError("not enough interactions to train the LSTM: no user has a positive after an "
                          "earlier interaction")
    n_items = ds.n_items
    target = items[pos]
    # the item-id embedding covers items with a TRAIN positive; the others share row 0 (cold start)
    known = np.zeros(n_items + 1, bool)
    known[target] = True
    id_index = np.where(known, np.cumsum(known), 0).astype(np.int32)
    counts = np.bincount(target, minlength=n_items + 1).astype(np.float64)
    log_q = np.log(np.maximum(counts, 1) / max(counts.sum(), 1)).astype(np.float32)
    return TrainingArrays(items, feats, pos.astype(np.int64), back, id_index, log_q, n_items)


def training_arrays(ds: Dataset, cache: Path | str | None = None) -> TrainingArrays:
    """The training examples of `ds`: in memory without a cache folder; else exported once to
    `cache/<fingerprint>/` and memory-mapped from there (reused when the data has not changed)."""
    if cache is None:
        return compute_examples(ds)
    folder = Path(cache) / fingerprint(ds)
    if not (folder / "log_q.npy").is_file():
        arrays = compute_examples(ds)
        tmp = folder.with_name(f".{folder.name}.{uuid.uuid4().hex[:8]}.tmp")
        tmp.mkdir(parents=True)
        try:
            for name in FILES:
                np.save(tmp / f"{name}.npy", getattr(arrays, name))
            del arrays
            try:
                os.replace(tmp, folder)
            except OSError:             # another process exported the same data first
                if not (folder / "log_q.npy").is_file():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        prune(Path(cache), keep=folder)
    else:
        os.utime(folder)                       # recently used: pruned last
    return TrainingArrays.open(folder)


KEEP_EXPORTS = 4     # a holdout run uses two (TRAIN and its validation TRAIN); older data's go first


def prune(cache: Path, keep: Path, n: int = KEEP_EXPORTS) -> None:
    """Delete all but the `n` most recently used exports in `cache` (never `keep`): appending data
    changes the fingerprint, so the old exports would otherwise pile up."""
    done = sorted((p for p in cache.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [p for p in done if p != keep][n - 1:]:
        shutil.rmtree(old, ignore_errors=True)
