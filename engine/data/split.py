"""The time-aware holdout of docs/evaluation.md: deterministic, per user, no randomness.

For each user the positives are sorted by (timestamp, item id). A user with at least
`min_positives` positives gives the last max(1, floor(test_fraction * n)) to TEST; t_c is the
timestamp of the first of them. TRAIN keeps every other interaction of that user with
timestamp <= t_c (non-positives only mark items as seen); later non-positives are dropped.
Users with fewer positives go wholly to TRAIN and are not evaluated.

"Item id" is the dataset's external id (compared as integers when every id is an integer,
as strings otherwise); a missing timestamp sorts before every real one.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from engine.data.dataset import Dataset


def item_id_rank(ds: Dataset) -> np.ndarray:
    """(n_items,) rank of each item's external id: the tie-break order of the protocol."""
    ids = ds.item_ids
    try:
        keys = np.array([int(x) for x in ids], dtype=np.int64)
    except (TypeError, ValueError):
        keys = np.asarray(ids, dtype=str)
    order = np.argsort(keys, kind="stable")
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids))
    return rank


SORTED_CHECK_ROWS = 1 << 20   # rows compared per block by `in_time_order` (its temporaries stay this small)


def in_time_order(ds: Dataset, rank: np.ndarray) -> bool:
    """Whether the interactions are already sorted by (user, timestamp, item id): the store loads them
    by (user, timestamp, item index), so they usually are. Checked block by block, O(block) memory."""
    u, t, it = ds.user_idx, ds.timestamp, ds.item_idx
    n = len(u)
    for a in range(0, max(n - 1, 0), SORTED_CHECK_ROWS):
        b = min(n, a + SORTED_CHECK_ROWS + 1)
        du = np.diff(u[a:b].astype(np.int64))
        if (du < 0).any():
            return False
        same_u = du == 0
        tb = t[a:b]
        dt_lt, dt_eq = tb[1:] < tb[:-1], tb[1:] == tb[:-1]
        if (same_u & dt_lt).any():
            return False
        r = rank[it[a:b]]
        if (same_u & dt_eq & (r[1:] < r[:-1])).any():
            return False
    return True


def time_order(ds: Dataset, rank: np.ndarray | None = None) -> np.ndarray:
    """Interaction indices sorted by (user, timestamp, item id). Already sorted data (as loaded from the
    store) skips the sort: the stable lexsort would return exactly this identity order anyway."""
    rank = item_id_rank(ds) if rank is None else rank
    if in_time_order(ds, rank):
        return np.arange(ds.n_interactions, dtype=np.intp)
    return np.lexsort((rank[ds.item_idx], ds.timestamp, ds.user_idx))


@dataclass
class UserHistories:
    """Per-user interactions in time order (CSR layout): the input a model scores from."""

    indptr: np.ndarray   # (n_users + 1,) int64
    items: np.ndarray    # int32
    ratings: np.ndarray  # float32

    @classmethod
    def from_dataset(cls, ds: Dataset, rank: np.ndarray | None = None) -> "UserHistories":
        rank = item_id_rank(ds) if rank is None else rank
        counts = np.bincount(ds.user_idx, minlength=ds.n_users)
        indptr = np.zeros(ds.n_users + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        if in_time_order(ds, rank):     # as loaded: the dataset's own arrays are the CSR rows (no copies)
            return cls(indptr, np.asarray(ds.item_idx, np.int32), np.asarray(ds.rating, np.float32))
        order = time_order(ds, rank)
        return cls(indptr, ds.item_idx[order].astype(np.int32), ds.rating[order].astype(np.float32))

    def __call__(self, user: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.indptr[user], self.indptr[user + 1]
        return self.items[a:b], self.ratings[a:b]

    def counts(self) -> np.ndarray:
        return np.diff(self.indptr)


@dataclass
class Split:
    """TRAIN interactions plus, per evaluated user, the TEST positives."""

    train: Dataset                    # TRAIN interactions (subset of the dataset)
    test_users: np.ndarray            # int32 users evaluated
    test_items: list[np.ndarray]      # per evaluated user, TEST positive items
    stats: dict = field(default_factory=dict)
    _histories: UserHistories | None = field(default=None, repr=False)
    _rank: np.ndarray | None = field(default=None, repr=False)   # item_id_rank, when the caller had it

    @property
    def histories(self) -> UserHistories:
        if self._histories is None:
            self._histories = UserHistories.from_dataset(self.train, self._rank)
        return self._histories

    def history(self, user: int) -> tuple[np.ndarray, np.ndarray]:
        """The user's TRAIN items and ratings in time order (the input at evaluation time)."""
        return self.histories(int(user))

    def first_users(self, n: int | None) -> "Split":
        """The same split evaluated on its first `n` test users only (all of them: None)."""
        if n is None or n >= len(self.test_users):
            return self
        return dataclasses.replace(self, test_users=self.test_users[:n], test_items=self.test_items[:n])

    def sample_users(self, n: int, seed: int = 0) -> "Split":
        """The same split evaluated on `n` of its test users drawn at random (seeded; kept in user order),
        with the draw noted in its statistics (`evaluated_sample` of `evaluated_all`)."""
        if n >= len(self.test_users):
            return self
        pick = np.sort(np.random.default_rng(seed).choice(len(self.test_users), size=int(n), replace=False))
        stats = {**self.stats, "evaluated_sample": int(n), "evaluated_all": int(len(self.test_users))}
        return dataclasses.replace(self, test_users=self.test_users[pick],
                                   test_items=[self.test_items[i] for i in pick], stats=stats)


def time_split(ds: Dataset, min_positives: int = 5, test_fraction: float = 0.2, *,
               rank: np.ndarray | None = None) -> Split:
    """The holdout of docs/evaluation.md (see the module docstring). The rule is per user, so a dataset holding
    only some users' interactions splits those users exactly as the whole dataset does (how the explorer
    splits one user, and the streamed aggregates a block of users); `rank` (item_id_rank) saves
    recomputing the catalogue's order for each such piece."""
    rank = item_id_rank(ds) if rank is None else rank
    # data already in time order (as loaded) is read in place: no n-long index, no sorted copies
    order = None if in_time_order(ds, rank) else time_order(ds, rank)
    users = ds.user_idx if order is None else ds.user_idx[order]
    ts = ds.timestamp if order is None else ds.timestamp[order]
    pos = ds.positive_mask() if order is None else ds.positive_mask()[order]

    n_pos = np.bincount(users[pos], minlength=ds.n_users)
    evaluated = n_pos >= min_positives
    n_test = np.where(evaluated, np.maximum(1, np.floor(test_fraction * n_pos + 1e-9)).astype(np.int64), 0)

    # rank of each positive within its user, counted from the end (0 = the user's last positive)
    pos_idx = np.flatnonzero(pos)
    pos_users = users[pos_idx]
    first = np.searchsorted(pos_users, np.arange(ds.n_users), side="left")
    last = np.searchsorted(pos_users, np.arange(ds.n_users), side="right")
    from_end = last[pos_users] - 1 - np.arange(len(pos_idx))
    is_test = np.zeros(ds.n_interactions, dtype=bool)
    is_test[pos_idx[from_end < n_test[pos_users]]] = True

    # t_c: timestamp of each evaluated user's first test positive
    t_c = np.full(ds.n_users, np.iinfo(np.int64).max, dtype=np.int64)
    ev_users = np.flatnonzero(evaluated)
    first_test = pos_idx[last[ev_users] - n_test[ev_users]]
    t_c[ev_users] = ts[first_test]
    del first

    keep_train = ~is_test & (ts <= t_c[users])
    del users, ts, pos, pos_idx, pos_users, last, from_end
    dropped = int((~is_test & ~keep_train).sum())
    if order is None:
        train_sel, test_order = keep_train, np.flatnonzero(is_test)
    else:
        train_sel = np.zeros(ds.n_interactions, dtype=bool)
        train_sel[order[keep_train]] = True
        test_order = order[is_test]
    del keep_train, order         # the sorted temporaries go before TRAIN's copy is made (peak memory)
    train = ds.subset(train_sel)

    test_u = ds.user_idx[test_order]
    test_i = ds.item_idx[test_order]
    bounds = np.searchsorted(test_u, ev_users, side="left"), np.searchsorted(test_u, ev_users, side="right")
    test_items = [np.sort(test_i[a:b]).astype(np.int32) for a, b in zip(*bounds)]
    stats = dict(users=int(ds.n_users), evaluated_users=int(len(ev_users)), test_positives=int(is_test.sum()),
                 train_rows=int(train_sel.sum()), train_positives=int(train.positive_mask().sum()),
                 dropped=dropped, items=int(ds.n_items))
    return Split(train=train, test_users=ev_users.astype(np.int32), test_items=test_items, stats=stats,
                 _rank=rank)


SCORED_CELLS = 4_000_000_000   # user x item scores one evaluation pass computes at most (see scored_sample)


def scored_sample(split: Split, cells: int | str | None = "auto", seed: int = 0) -> Split:
    """The split evaluated on at most `cells` // n_items of its users, drawn at random ("auto": SCORED_CELLS;
    None: every user). Each user drawn is still ranked against the whole catalogue. Nothing is drawn on
    MovieTweetings (2,711 users x 10,506 items) or X-Wines; 75,848 users against a million items (hours of
    scoring on a 2-core CPU) become 4,000, a standard error about as small as MovieTweetings' own. The
    draw is seeded, so every model on the dataset is scored on the same users."""
    if cells is None:
        return split
    cells = SCORED_CELLS if cells == "auto" else cells
    return split.sample_users(max(1, int(cells) // max(1, split.train.n_items)), seed)


def validation_split(train: Dataset, cells: int | str | None = "auto") -> Split:
    """The same rule applied to TRAIN: for early stopping and tuning (scored on `scored_sample`'s users)."""
    return scored_sample(time_split(train), cells)
