"""Lean runs: the explorer's view of a run without its interaction table (the counts it needs, and one
user's interactions read on demand)."""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.data.aggregates import dataset_counts
from engine.data.dataset import Dataset, user_interactions
from engine.data.dataset import load_dataset as _load
from engine.data.split import Split, UserHistories, item_id_rank, time_split
from engine.evaluation import metrics as M
from engine.runs.loaded import LoadedRun, _load_model, _run_view, run_path
from engine.store import Store
from engine.store import repository as repo
from engine.types import RunInfo

# ---- lean runs: the explorer's view of a run, without the interaction table ------------------------

@dataclass(frozen=True)
class RunCounts:
    """What the explorer needs of a run's whole interaction table: a few small arrays."""
    per_user: np.ndarray      # (n_users,) interactions per user (the picker; a run without holdout's default user)
    item_counts: np.ndarray   # (n_items,) TRAIN positives per item (holdout run), else positives: novelty bits
    test_users: np.ndarray    # evaluated users of a holdout run, ascending (empty otherwise)
    item_rank: np.ndarray | None = None   # item_id_rank, counted with the rest (the app need not convert 1M ids)


def run_counts(store: Store, info: RunInfo, progress=None, cancel=None) -> RunCounts:
    """The run's counts (engine.data.aggregates.dataset_counts: streamed over blocks of users in bounded
    memory the first time, then read back from a small file), positives judged with the run's threshold."""
    with store.session() as s:
        ds_info = repo.get_dataset(s, info.dataset_id)
    t = info.config["positive_threshold"] if "positive_threshold" in info.config else ds_info.positive_threshold
    c = dataset_counts(store, info.dataset_id, t, progress=progress, cancel=cancel)
    return RunCounts(c.per_user.astype(np.int32), c.item_train_positives if info.holdout else c.item_positives,
                     c.test_users if info.holdout else np.zeros(0, np.int32), c.item_rank)


def explore_parts(store: Store, run_id: int, progress=None, cancel=None) -> tuple[RunInfo, Dataset, Path, RunCounts]:
    """What the explorer reads of a run from the database (the app runs it in its store process): the run's
    row, its dataset's users and catalogue WITHOUT the interactions, the folder of its files, and its counts
    (`run_counts`). With `run_from_explore_parts` neither process holds the interaction table."""
    with store.session() as s:
        info = repo.get_run(s, run_id)
    path = run_path(store, info)
    counts = run_counts(store, info, progress=progress, cancel=cancel)   # before the texts are loaded
    return info, _load(store, info.dataset_id, with_interactions=False), path, counts


def run_from_explore_parts(info: RunInfo, ds: Dataset, path: Path, counts: RunCounts, store=None, *,
                           rows_on_demand: bool = False) -> LoadedRun:
    """A lean run from `explore_parts`: the model from its files (`rows_on_demand` as in `run_from_parts`);
    each user's interactions read from `store` when asked for (`StoredInteractions`; the app sets
    `run.source.store` to its store handle)."""
    ds = _run_view(info, ds)
    loaded = LoadedRun(info=info, dataset=ds, model=_load_model(info, path, rows_on_demand), split=None)
    loaded.directory = Path(path)
    loaded.source = StoredInteractions(ds, counts, bool(info.holdout), store)
    return loaded


def open_explore_run(store: Store, run_id: int, *, rows_on_demand: bool = False) -> LoadedRun:
    """`explore_parts` then `run_from_explore_parts` in one process (tests, benchmarks)."""
    return run_from_explore_parts(*explore_parts(store, run_id), store=store, rows_on_demand=rows_on_demand)


@dataclass(frozen=True)
class UserView:
    """One user of a lean run: the interactions as stored and the histories the run reads."""
    items: np.ndarray
    ratings: np.ndarray
    timestamps: np.ndarray
    whole: tuple[np.ndarray, np.ndarray]                 # time order
    train: tuple[np.ndarray, np.ndarray] | None          # the holdout's TRAIN history (holdout runs)
    test_items: np.ndarray | None                        # the holdout's TEST positives (evaluated users)


class StoredInteractions:
    """A lean run's interactions: each user's read from the store on demand (a primary-key range) and split
    by the holdout rule for that user alone (engine.data.split is per user), the last CACHE users kept."""

    CACHE = 64

    def __init__(self, dataset: Dataset, counts: RunCounts, holdout: bool, store=None):
        self.dataset, self.counts, self.holdout, self.store = dataset, counts, holdout, store
        self.rank = item_id_rank(dataset) if counts.item_rank is None else counts.item_rank
        self._lock = threading.Lock()
        self._users: OrderedDict[int, UserView] = OrderedDict()
        self._bits: np.ndarray | None = None

    def _block(self, users, rows) -> Dataset:
        """The given users' interactions as a Dataset over the whole catalogue and user range."""
        ds = self.dataset
        sizes = [len(r[0]) for r in rows]
        cat = (lambda k, dt: np.concatenate([r[k] for r in rows]).astype(dt) if rows else np.zeros(0, dt))
        return Dataset(ds.info, ds.user_ids, ds.item_ids, (), (), (),
                       np.repeat(np.asarray(users, np.int32), sizes), cat(0, np.int32), cat(1, np.float32),
                       cat(2, np.int64), ds.positive_threshold)

    def _read(self, users) -> list:
        """The users' interactions, read where the store is (`store.call`: this process for a Store, the
        store process for the app's handle)."""
        if self.store is None:
            raise RuntimeError("this lean run has no store to read users from")
        return self.store.call(user_interactions, self.dataset.info.id, list(users))

    def user(self, user: int) -> UserView:
        with self._lock:
            hit = self._users.get(user)
            if hit is not None:
                self._users.move_to_end(user)
                return hit
        rows = self._read([user])
        items, ratings, times = rows[0]
        one = Dataset(self.dataset.info, np.empty(1, dtype=object), self.dataset.item_ids, (), (), (),
                      np.zeros(len(items), np.int32), items, ratings, times, self.dataset.positive_threshold)
        whole = UserHistories.from_dataset(one, self.rank)(0)
        train = test = None
        if self.holdout:
            sp = time_split(one, rank=self.rank)
            train = sp.history(0)
            test = sp.test_items[0] if len(sp.test_users) else np.zeros(0, np.int32)
        view = UserView(items, ratings, times, whole, train, test)
        with self._lock:
            self._users[user] = view
            while len(self._users) > self.CACHE:
                self._users.popitem(last=False)
        return view

    def split_for(self, users: np.ndarray) -> Split:
        """The holdout split of just these users (one read for all): what the frontier measures."""
        users = np.asarray(users, dtype=np.int64)
        return time_split(self._block(users, self._read(users.tolist())), rank=self.rank)

    def item_bits(self) -> np.ndarray:
        """-log2 p_i under the run's TRAIN positives, from the counts (the same counts, streamed once)."""
        if self._bits is None:
            self._bits = -np.log2(M.item_probabilities(self.counts.item_counts))
        return self._bits

    # ---- the rest of engine.runs.loaded.Interactions ------------------------------------------------
    def history(self, user: int, whole: bool) -> tuple[np.ndarray, np.ndarray]:
        view = self.user(user)
        return view.whole if whole or view.train is None else view.train

    def user_events(self, user: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        v = self.user(user)
        return v.items, v.ratings, v.timestamps

    def evaluation_split(self, max_users: int | None) -> Split | None:
        if not self.holdout:
            return None
        users = self.counts.test_users
        return self.split_for(users if max_users is None else users[:max_users])

    def default_user(self) -> int:
        c = self.counts
        return int(c.test_users[0]) if len(c.test_users) else int(np.argmax(c.per_user))

    def prepare(self) -> None:
        """Nothing to build: each pick reads its user."""
