"""Runs: a fitted model's files plus its row in the database. Files are written to a temporary
folder and renamed into place before the run is registered (one transaction), so a crash or a
cancel never leaves a registered run without files, nor a half-written folder under a real name."""
from __future__ import annotations

import dataclasses
import os
import shutil
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.data.dataset import Dataset, load_dataset
from engine.data.split import Split, UserHistories, item_id_rank, time_split
from engine.evaluation.protocol import evaluate, topk_rows
from engine.jobs.cancel import check
from engine.models.base import Recommender
from engine.models.registry import get_model_class
from engine.store.ownership import claim, is_own, why_not_own
from engine.store import Store
from engine.store import repository as repo
from engine.types import RunInfo, StepProgress

RUNS_DIR = "runs"


def with_threshold(ds: Dataset, threshold: float | None) -> Dataset:
    """The dataset as a run saw it: positives judged with the threshold in force at training time."""
    return dataclasses.replace(ds, _positive_threshold=threshold)


@dataclass
class LoadedRun:
    info: RunInfo
    dataset: Dataset
    model: Recommender
    split: Split | None   # None when the run was trained without a holdout

    def __post_init__(self) -> None:
        self._whole: UserHistories | None = None
        self._index = False             # not looked for yet
        self.directory: Path | None = None
        self.use_index = True           # False: always exact scoring (evaluation, comparisons)
        self.source: StoredInteractions | None = None   # set: a lean run (`open_explore_run`)

    @property
    def index(self):
        """The run's ANN index (engine.retrieval.index) when one was built for it and matches the model, else None."""
        if not self.use_index or self.directory is None:
            return None
        if self._index is False:
            from engine.retrieval.index import ItemIndex
            idx = ItemIndex.load(self.directory, vectors=self.model.item_vectors())
            self._index = idx if idx is not None and idx.n_items == self.model.n_items else None
        return self._index

    def forget_index(self) -> None:
        """Look for the index again at the next use (it was built or rebuilt since the run was loaded)."""
        self._index = False

    def index_info(self) -> dict | None:
        """index.json's facts about the run's index (kind, nlist, nprobe, recall, summary), or None."""
        if self.directory is None:
            return None
        from engine.retrieval.index import index_info
        return index_info(self.directory)

    def top_candidates(self, items: np.ndarray, ratings: np.ndarray | None, n: int,
                       exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The n best items for one history, `exclude` (default: the history) left out, best first:
        from the ANN index when the run has one, else by scoring the whole catalogue."""
        items = np.asarray(items, dtype=np.int64)
        excl = np.unique(np.asarray(items if exclude is None else exclude, dtype=np.int64))
        index = self.index
        if index is not None:
            q = self.model.query_vectors([items], None if ratings is None else [ratings])
            ids, sims = index.search(q, n + len(excl))
            ids, sims = ids[0], sims[0]
            keep = (ids >= 0) & ~np.isin(ids, excl)
            return ids[keep][:n], self.model.scores_from_similarity(sims[keep][:n])
        s = np.array(self.model.score(items, ratings), dtype=np.float32)
        s[excl[excl < len(s)]] = -np.inf          # items newer than the model are not scored at all
        top = topk_rows(s[None, :], n)[0]
        top = top[np.isfinite(s[top])]
        return top, s[top]

    @property
    def whole_histories(self) -> UserHistories:
        if self.source is not None:
            raise RuntimeError("a lean run holds no histories: use history(user)")
        if self._whole is None:
            self._whole = UserHistories.from_dataset(self.dataset)
        return self._whole

    @property
    def holdout(self) -> bool:
        """The run was trained on the holdout's TRAIN part (so it has an evaluation split)."""
        return self.split is not None or (self.source is not None and bool(self.info.holdout))

    def history(self, user: int, *, whole: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The input used at recommendation time: the user's TRAIN history for a holdout run (so the
        held-out items can show up as hits), the whole history otherwise or when `whole`."""
        if self.source is not None:
            view = self.source.user(int(user))
            return view.whole if whole or view.train is None else view.train
        if self.split is not None and not whole:
            return self.split.history(user)
        return self.whole_histories(int(user))

    def user_events(self, user: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All the user's interactions as (items, ratings, timestamps), in no particular order."""
        if self.source is not None:
            v = self.source.user(int(user))
            return v.items, v.ratings, v.timestamps
        return self.dataset.user_events(int(user))

    def evaluation_split(self, max_users: int | None = None) -> Split | None:
        """The holdout split for the first `max_users` evaluated users (all: None); None without a holdout.
        A lean run reads just those users and splits them (the rule is per user: the same split)."""
        if self.split is not None:
            return self.split.first_users(max_users)
        if self.source is None or not self.info.holdout:
            return None
        users = self.source.counts.test_users
        return self.source.split_for(users if max_users is None else users[:max_users])

    def scores(self, user: int, *, whole: bool = False) -> np.ndarray:
        items, ratings = self.history(user, whole=whole)
        return self.model.score(items, ratings)

    def recommend(self, user: int, k: int, *, candidates: int | None = None,
                  whole: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (items, scores), seen items excluded; with `candidates` the top max(k, candidates)
        (the pool a re-ranker re-orders)."""
        items, ratings = self.history(user, whole=whole)
        return self.top_candidates(items, ratings, max(k, candidates or 0))

    def recommend_many(self, users: np.ndarray, k: int, *, whole: bool = False,
                       batch_users: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """(len(users), k) items and scores for many users, scored in batches."""
        users = np.asarray(users, dtype=np.int64)
        k = min(k, self.dataset.n_items)
        items_out = np.zeros((len(users), k), dtype=np.int64)
        scores_out = np.zeros((len(users), k), dtype=np.float32)
        index = self.index
        for a in range(0, len(users), batch_users):
            hs = [self.history(int(u), whole=whole) for u in users[a:a + batch_users]]
            if index is not None:           # ANN: search past the history, then drop what was seen
                q = self.model.query_vectors([h[0] for h in hs], [h[1] for h in hs])
                ids, sims = index.search(q, k + max(len(h[0]) for h in hs))
                scores = self.model.scores_from_similarity(sims)
                for r, h in enumerate(hs):
                    keep = (ids[r] >= 0) & ~np.isin(ids[r], h[0])
                    got = ids[r][keep][:k]
                    items_out[a + r] = np.pad(got, (0, k - len(got)), constant_values=-1)
                    scores_out[a + r] = np.pad(scores[r][keep][:k], (0, k - len(got)), constant_values=-np.inf)
                continue
            s = np.array(self.model.score_many([h[0] for h in hs], [h[1] for h in hs]), dtype=np.float32)
            for r, h in enumerate(hs):
                s[r, h[0][h[0] < s.shape[1]]] = -np.inf
            top = topk_rows(s, k)
            items_out[a:a + len(hs)] = top
            scores_out[a:a + len(hs)] = np.take_along_axis(s, top, axis=1)
        return items_out, scores_out


def run_path(store: Store, info: RunInfo) -> Path:
    return Path(store.artifact_root) / (info.artifact_dir or "")


def load_run(store: Store, run_id: int) -> LoadedRun:
    """The run's model (from its files), its dataset and, for a holdout run, the same split."""
    return run_from_parts(*run_parts(store, run_id))


def run_parts(store: Store, run_id: int) -> tuple[RunInfo, Dataset, Path]:
    """What of a run comes from the database: its row, its dataset, and the folder of its files. The app
    reads these in its store process and opens the model files itself (`run_from_parts`), so the item
    vectors (512 MiB at 1M items) are never copied between the processes."""
    with store.session() as s:
        info = repo.get_run(s, run_id)
    return info, load_dataset(store, info.dataset_id), run_path(store, info)


def run_from_parts(info: RunInfo, ds: Dataset, path: Path, *, rows_on_demand: bool = False) -> LoadedRun:
    """The loaded run from `run_parts`: the model read from its files (no database needed).
    `rows_on_demand`: a model that can leaves its item vectors in its file and reads rows when asked
    (engine.data.vector_rows; for a large catalogue served by its ANN index)."""
    ds = _run_view(info, ds)
    model = _load_model(info, path, rows_on_demand)
    split = time_split(ds) if info.holdout else None
    loaded = LoadedRun(info=info, dataset=ds, model=model, split=split)
    loaded.directory = Path(path)
    return loaded


def _run_view(info: RunInfo, ds: Dataset) -> Dataset:
    return with_threshold(ds, info.config["positive_threshold"]) if "positive_threshold" in info.config else ds


def _load_model(info: RunInfo, path: Path, rows_on_demand: bool = False) -> Recommender:
    run_id = info.id
    check_model_files(path)
    try:
        cls = get_model_class(info.model)
        on_demand = rows_on_demand and getattr(cls, "loads_rows_on_demand", False)
        model = cls.load(path, rows_on_demand=True) if on_demand else cls.load(path)
    except FileNotFoundError as exc:
        from engine.errors import DataError
        raise DataError(f"run {run_id}: a model file is missing ({exc.filename}); train the model again") from None
    except Exception as exc:  # noqa: BLE001 - damaged or swapped model files
        from engine.errors import DataError
        raise DataError(f"run {run_id}: the model files in {path} are damaged ({type(exc).__name__}: {exc}); "
                        "train the model again") from None
    return model


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
    from engine.data.aggregates import dataset_counts
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
    from engine.data.dataset import load_dataset as _load
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

    def _block(self, users, rows) -> Dataset:
        """The given users' interactions as a Dataset over the whole catalogue and user range."""
        ds = self.dataset
        sizes = [len(r[0]) for r in rows]
        cat = (lambda k, dt: np.concatenate([r[k] for r in rows]).astype(dt) if rows else np.zeros(0, dt))
        return Dataset(ds.info, ds.user_ids, ds.item_ids, (), (), (),
                       np.repeat(np.asarray(users, np.int32), sizes), cat(0, np.int32), cat(1, np.float32),
                       cat(2, np.int64), ds.positive_threshold)

    def _read(self, users) -> list:
        from engine.data.dataset import user_interactions
        from engine.store.process import StoreProcess
        if self.store is None:
            raise RuntimeError("this lean run has no store to read users from")
        ds_id = self.dataset.info.id
        if isinstance(self.store, StoreProcess):
            return self.store.run(user_interactions, self.store, ds_id, list(users))
        return user_interactions(self.store, ds_id, users)

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
        """-log2 p_i under the run's TRAIN positives (engine.explore.live_list.item_bits from the counts)."""
        from engine.evaluation import metrics as M
        if getattr(self, "_bits", None) is None:
            self._bits = -np.log2(M.item_probabilities(self.counts.item_counts))
        return self._bits


def save_and_register(store: Store, *, dataset: Dataset, model: Recommender, objective: str | None, config: dict,
                      holdout: bool, device: str | None, device_name: str | None, seconds: float | None,
                      metrics: dict, epochs: list[dict] | None, progress=None, cancel=None,
                      also_write=None) -> int:
    """Write the model's files to a temp folder, rename it into place, then register the run in one
    transaction; on any failure nothing is left behind. `also_write(folder)`: more files of the run
    (an ANN index), written into the same temp folder, so the run is never registered without them. Returns the run id. While another program
    writes to the database, it waits (reporting progress) instead of throwing the finished model away."""
    root = Path(store.artifact_root) / RUNS_DIR
    root.mkdir(parents=True, exist_ok=True)
    token = f"{model.name}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
    tmp = root / f".tmp-{token}"
    final = root / token
    config = dict(config)
    config.setdefault("positive_threshold", dataset.positive_threshold)
    tmp.mkdir()
    owner = _own(tmp)   # held until the run is registered: cleanup never touches a folder in use
    try:
        claim(tmp, store)   # before any model bytes: a tidy-up removes only its own database's folders
        model.save(tmp)
        if also_write is not None:
            also_write(tmp)
        check_model_files(tmp)
        tmp.rename(final)
        with store.write_session(progress=progress, cancel=cancel) as s:
            return repo.register_run(s, dataset_id=dataset.info.id, model=model.name, objective=objective,
                                     config=config, holdout=holdout, device=device, device_name=device_name,
                                     seconds=seconds, metrics=metrics, artifact_dir=f"{RUNS_DIR}/{token}",
                                     epochs=epochs or [])
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(final, ignore_errors=True)
        raise
    finally:
        _release(owner)


# ---- model files: validation and leftovers -------------------------------------------------------

def check_model_files(directory: Path) -> None:
    """Refuse a model whose arrays hold NaN or infinite values (a diverged fit, a damaged file):
    checked when a run is saved and when it is loaded, so no 'done' run recommends nothing. Large
    float32 arrays are checked block by block (engine.data.vector_rows), never read whole."""
    from engine.errors import DataError
    from engine.data.vector_rows import npz_nonfinite
    path = Path(directory) / "model.npz"
    try:
        key = npz_nonfinite(path)
        if key is not None:
            raise DataError(f"{path}: the model's {key!r} values are not finite numbers (NaN or "
                            "infinite: the training diverged or the file is damaged); train it again")
    except DataError:
        raise
    except FileNotFoundError:
        raise DataError(f"{path}: the model file is missing; train the model again") from None
    except Exception as exc:  # noqa: BLE001 - a truncated or foreign file: zipfile, ValueError, OSError...
        raise DataError(f"{path}: the model file is damaged ({type(exc).__name__}: {exc}); "
                        "train the model again") from None


def _own(folder: Path):
    """An exclusive lock on `folder` for as long as this process holds it (released by the kernel if
    the process dies): how cleanup tells a folder being written from a leftover. POSIX only."""
    try:
        import fcntl
    except ImportError:   # no flock: cleanup then only removes old leftovers
        return None
    fd = os.open(folder, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _try_own(folder: Path):
    try:
        import fcntl
    except ImportError:
        return "unlocked" if time.time() - folder.stat().st_mtime > 86400 else None
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except OSError:
        os.close(fd)
        return None


def _release(fd) -> None:
    if isinstance(fd, int):
        os.close(fd)


@dataclass(frozen=True)
class Leftovers:
    """What a tidy-up of the runs folder did: folders removed, and unreferenced folders it left alone
    because it cannot prove they are its own (name, why)."""
    removed: list[str]
    kept: list[tuple[str, str]]


def clean_leftovers(store: Store, *, min_age_s: float = 60.0) -> Leftovers:
    """Remove what a killed save of THIS database left under the runs folder: `.tmp-*` folders and
    complete folders that no run references (killed between the rename and the registration). Only a
    folder whose owner record names this database is removed (engine.store.ownership): the artifacts folder
    may be shared with other databases, whose runs this one does not reference. A folder whose writer
    still runs is locked by it and skipped, and so is one younger than `min_age_s` (a save that has
    just made its folder and not yet written its owner record); a folder is removed only after a
    second look at the runs table under its lock."""
    root = Path(store.artifact_root) / RUNS_DIR
    if not root.is_dir():
        return Leftovers([], [])

    def referenced() -> set[str]:
        with store.session() as s:
            return {Path(r.artifact_dir or "").name for r in repo.list_runs(s)}

    used = referenced()
    removed, kept = [], []
    for folder in sorted(root.iterdir()):
        if not folder.is_dir() or folder.name in used:
            continue
        try:
            if time.time() - folder.stat().st_mtime < min_age_s:
                continue
        except OSError:
            continue
        if not is_own(folder, store):
            kept.append((folder.name, why_not_own(folder, store)))
            continue
        fd = _try_own(folder)
        if fd is None:
            continue       # in use by a running save
        try:
            if folder.name.startswith(".tmp-") or folder.name not in referenced():
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder.name)
        finally:
            _release(fd)
    return Leftovers(removed, kept)


def fit_baseline(store: Store, dataset_name, model_name: str, *, holdout: bool = True, progress=None,
                 cancel=None, params: dict | None = None) -> int:
    """Fit a numpy baseline (no TensorFlow), evaluate it on the holdout, save and register it.
    Returns the run id. With holdout=False it learns from all interactions and has no metrics."""
    from engine.models.registry import BASELINES
    from engine.errors import EngineError
    if model_name not in BASELINES:
        raise EngineError(f"{model_name!r} is not a baseline; choose one of {', '.join(BASELINES)}")
    from engine.data.aggregates import keep_loaded_counts
    ds = load_dataset(store, dataset_name)
    keep_loaded_counts(store, ds, progress=progress, cancel=cancel)   # the explorer's counts, while loaded
    start = time.perf_counter()
    split = time_split(ds) if holdout else None
    model = get_model_class(model_name)(**(params or {}))
    if progress is not None:
        progress(StepProgress(f"fitting {model_name}", 0, 1))
    model.fit(split.train if split is not None else ds, progress=progress, cancel=cancel)
    check(cancel)
    if progress is not None:
        progress(StepProgress(f"fitting {model_name}", 1, 1))
    metrics = evaluate(model, split, progress=progress, cancel=cancel) if split is not None else {}
    check(cancel)
    seconds = time.perf_counter() - start
    config = {"dataset": ds.info.name, "model": model_name, **model.params()}
    return save_and_register(store, dataset=ds, model=model, objective=None, config=config, holdout=holdout,
                             device="cpu", device_name="CPU (numpy)", seconds=seconds, metrics=metrics, epochs=[],
                             progress=progress, cancel=cancel)
