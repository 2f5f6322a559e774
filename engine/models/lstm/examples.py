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
    counts.npy               per item: its examples as a target (`with_id_rows` thresholds on it)

A batch's histories are gathered from these at batch time for any L (`TrainingArrays.batch`), so the
export does not depend on L and one export serves every setting the tuner tries. With a cache folder
the files live in `<folder>/<fingerprint of the training set>/` (written block by block, `_Blocks`, so
the export's memory does not grow with the data either, under a temporary name, then renamed; the four most recently used are kept) and are opened with ``mmap_mode="r"``: a re-run on the
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

from engine.data.dataset import Dataset
from engine.data.split import in_time_order, item_id_rank, time_order
from engine.errors import EngineError
from engine.models.lstm.sequences import rating_feature

FILES = ("items", "feats", "pos", "back", "id_index", "log_q", "counts")
FORMAT = "examples-v2"     # v2: counts.npy


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
    counts: np.ndarray | None = None   # examples per 1-based target item (int32)

    def __len__(self) -> int:
        return len(self.pos)

    @property
    def target(self) -> np.ndarray:
        return self.items[self.pos]

    def with_id_rows(self, min_examples: int) -> "TrainingArrays":
        """These examples with id-embedding rows only for items that are the target of at least
        `min_examples` examples; the others share the cold-start row 0 (with their own text vectors).
        A row seen once or twice an epoch barely trains, and the table with its two Adam slots is
        12 bytes x d per row: 1.5 GB at 1M items and d = 128."""
        if min_examples <= 1 or self.counts is None:
            return self
        return dataclasses.replace(self, id_index=id_rows(self.counts, min_examples))

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
                   np.array(maps["log_q"]), len(maps["id_index"]) - 1, folder, np.array(maps["counts"]))


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


BLOCK_ROWS = 1 << 18   # interactions per block of the export (its temporaries: ~50 bytes a row)


class _Blocks:
    """The export computed block by block over the interactions in (user, time) order, so its memory
    is O(block), not O(interactions). Data already in that order (as loaded) is read in place; other
    data goes through `time_order`'s index. `counts()` is a first pass (examples and targets per item),
    `__iter__` the second: (items, feats, pos, back) of each block, the rows of the module docstring."""

    def __init__(self, ds: Dataset):
        self.ds, self.block = ds, BLOCK_ROWS
        rank = item_id_rank(ds)
        self.order = None if in_time_order(ds, rank) else time_order(ds, rank)

    def _rows(self, a: int, b: int):
        ds = self.ds
        sel = slice(a, b) if self.order is None else self.order[a:b]
        return ds.user_idx[sel], ds.item_idx[sel], ds.rating[sel]

    def _examples(self):
        """(start row, users, items, ratings, pos, back) per block; `back` counts from the start of each
        user's run of rows (rows are grouped by user), carried across block edges."""
        n = self.ds.n_interactions
        prev_user, user_start = -1, 0
        for a in range(0, n, self.block):
            b = min(n, a + self.block)
            users, item_idx, rating = self._rows(a, b)
            first = np.empty(b - a, bool)
            first[0] = users[0] != prev_user
            first[1:] = users[1:] != users[:-1]
            rows = np.arange(a, b, dtype=np.int64)
            starts = np.maximum.accumulate(np.where(first, rows, user_start))
            pos = np.flatnonzero(self.ds.is_positive(rating) & ~first)
            back = (pos + a - starts[pos]).astype(np.int32)
            prev_user, user_start = users[-1], starts[-1]
            yield a, item_idx, rating, pos + a, back

    def counts(self) -> tuple[int, np.ndarray]:
        """(number of examples, examples per 1-based target item)."""
        n_examples, counts = 0, np.zeros(self.ds.n_items + 1, np.int64)
        for a, item_idx, _, pos, _ in self._examples():
            n_examples += len(pos)
            counts += np.bincount(item_idx[pos - a].astype(np.intp) + 1, minlength=self.ds.n_items + 1)
        if n_examples == 0:
            raise EngineError("not enough interactions to train the LSTM: no user has a positive after an "
                              "earlier interaction")
        return n_examples, counts

    def __iter__(self):
        info = self.ds.info
        for _, item_idx, rating, pos, back in self._examples():
            yield (item_idx.astype(np.int32) + 1, rating_feature(rating, info.rating_min, info.rating_max),
                   pos, back)


def id_rows(counts: np.ndarray, min_examples: int = 1) -> np.ndarray:
    """item -> id-embedding row: rows 1.. in item order for the items with at least `min_examples`
    examples (at least one), 0 (the shared cold-start row) for the others and for the padding item 0."""
    known = counts >= max(1, min_examples)
    known[:1] = False
    return np.where(known, np.cumsum(known), 0).astype(np.int32)


def _per_item(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(id_index, log_q, counts) from the examples per target item: the item-id embedding covers items
    with a TRAIN positive, the others share row 0 (cold start)."""
    log_q = np.log(np.maximum(counts.astype(np.float64), 1) / max(counts.sum(), 1)).astype(np.float32)
    return id_rows(counts), log_q, counts.astype(np.int32)


def compute_examples(ds: Dataset) -> TrainingArrays:
    """The arrays of the module docstring, in memory (the blocks concatenated)."""
    blocks = _Blocks(ds)
    _, counts = blocks.counts()
    parts = list(zip(*blocks))
    items, feats, pos, back = (np.concatenate(p) for p in parts)
    id_index, log_q, counts = _per_item(counts)
    return TrainingArrays(items, feats, pos, back, id_index, log_q, ds.n_items, counts=counts)


class _NpyWriter:
    """An .npy file written front to back, block by block: the same bytes as ``np.save`` of the whole
    array. Plain writes, not a memory map: a memory-mapped output's written pages count in the
    process's resident memory until it is unmapped (a 400 MB fill through ``open_memmap`` peaked at
    +396 MiB RSS, flushed or not), which is what this export avoids."""

    def __init__(self, path: Path, dtype, length: int):
        self.dtype, self.left = np.dtype(dtype), length
        self.f = open(path, "wb")
        np.lib.format.write_array_header_1_0(self.f, {"descr": np.lib.format.dtype_to_descr(self.dtype),
                                                      "fortran_order": False, "shape": (length,)})

    def write(self, block: np.ndarray) -> None:
        assert block.dtype == self.dtype and len(block) <= self.left
        self.f.write(np.ascontiguousarray(block).data)
        self.left -= len(block)

    def close(self) -> None:
        self.f.close()
        if self.left:
            raise EngineError(f"export incomplete: {self.left} rows short")


def _export(ds: Dataset, tmp: Path) -> None:
    """The export's six files in `tmp`, written block by block (see `_Blocks`)."""
    blocks = _Blocks(ds)
    n_examples, counts = blocks.counts()
    for name, a in zip(("id_index", "log_q", "counts"), _per_item(counts)):
        np.save(tmp / f"{name}.npy", a)
    sizes = {"items": (np.int32, ds.n_interactions), "feats": (np.float32, ds.n_interactions),
             "pos": (np.int64, n_examples), "back": (np.int32, n_examples)}
    writers = {}
    try:
        for name, (dtype, length) in sizes.items():
            writers[name] = _NpyWriter(tmp / f"{name}.npy", dtype, length)
        for part in blocks:
            for w, arr in zip(writers.values(), part):
                w.write(arr)
    finally:
        for w in writers.values():
            w.f.close()
    for w in writers.values():
        w.close()


def training_arrays(ds: Dataset, cache: Path | str | None = None) -> TrainingArrays:
    """The training examples of `ds`: in memory without a cache folder; else exported once to
    `cache/<fingerprint>/` (written block by block into a temporary folder, then renamed, so a failure
    or cancel leaves nothing under the real name) and memory-mapped from there (reused when the data
    has not changed)."""
    if cache is None:
        return compute_examples(ds)
    folder = Path(cache) / fingerprint(ds)
    if not (folder / "log_q.npy").is_file():
        tmp = folder.with_name(f".{folder.name}.{uuid.uuid4().hex[:8]}.tmp")
        tmp.mkdir(parents=True)
        try:
            _export(ds, tmp)
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
