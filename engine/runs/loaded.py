"""A run loaded for use: its row, its dataset, its model from the run's folder (checked: no NaN, nothing
missing), its split, and where its users' interactions come from (`Interactions`: the loaded table, or
one user at a time in a lean run, engine.runs.lean). LoadedRun is the one run type every front end uses."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from engine.data.dataset import Dataset, load_dataset
from engine.data.split import Split, UserHistories, time_split
from engine.errors import DataError
from engine.evaluation import metrics as M
from engine.evaluation.protocol import topk_rows
from engine.models.base import Recommender
from engine.models.registry import get_model_class
from engine.retrieval.index import ItemIndex, index_info
from engine.retrieval.vector_rows import npz_nonfinite
from engine.store import Store
from engine.store import repository as repo
from engine.types import RunInfo

RUNS_DIR = "runs"


def with_threshold(ds: Dataset, threshold: float | None) -> Dataset:
    """The dataset as a run saw it: positives judged with the threshold in force at training time."""
    return dataclasses.replace(ds, _positive_threshold=threshold)


class Interactions(Protocol):
    """Where a run reads its users' interactions from (see LoadedRun.source)."""
    store: object | None

    @property
    def holdout(self) -> bool: ...
    def history(self, user: int, whole: bool) -> tuple[np.ndarray, np.ndarray]: ...
    def user_events(self, user: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...
    def evaluation_split(self, max_users: int | None) -> Split | None: ...
    def item_bits(self) -> np.ndarray: ...
    def default_user(self) -> int: ...
    def prepare(self) -> None: ...


class InMemoryInteractions:
    """A full run's interactions: the loaded table (and its holdout split, when the run has one)."""
    store = None

    def __init__(self, dataset: Dataset, split: Split | None):
        self.dataset, self.split = dataset, split
        self._whole: UserHistories | None = None
        self._bits: np.ndarray | None = None

    @property
    def holdout(self) -> bool:
        return self.split is not None

    def whole_histories(self) -> UserHistories:
        if self._whole is None:
            self._whole = UserHistories.from_dataset(self.dataset)
        return self._whole

    def history(self, user: int, whole: bool) -> tuple[np.ndarray, np.ndarray]:
        if self.split is not None and not whole:
            return self.split.history(user)
        return self.whole_histories()(user)

    def user_events(self, user: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.dataset.user_events(user)

    def evaluation_split(self, max_users: int | None) -> Split | None:
        return None if self.split is None else self.split.first_users(max_users)

    def item_bits(self) -> np.ndarray:
        if self._bits is None:
            train = self.split.train if self.split is not None else self.dataset
            pos = train.positive_mask()
            counts = np.bincount(train.item_idx[pos], minlength=train.n_items)
            self._bits = -np.log2(M.item_probabilities(counts))
        return self._bits

    def default_user(self) -> int:
        if self.split is not None and len(self.split.test_users):
            return int(self.split.test_users[0])
        return int(np.argmax(np.bincount(self.dataset.user_idx, minlength=self.dataset.n_users)))

    def prepare(self) -> None:
        if self.dataset.n_users:
            self.history(0, False)


@dataclass
class LoadedRun:
    info: RunInfo
    dataset: Dataset
    model: Recommender
    split: Split | None   # None when the run was trained without a holdout

    def __post_init__(self) -> None:
        self._index = False             # not looked for yet
        self.directory: Path | None = None
        self.use_index = True           # False: always exact scoring (evaluation, comparisons)
        # where the users' interactions come from: the loaded table, or (a lean run, engine.runs.lean)
        # one user at a time from the store; the only difference between a full and a lean run
        self.source: Interactions = InMemoryInteractions(self.dataset, self.split)

    @property
    def index(self):
        """The run's ANN index (engine.retrieval.index) when one was built for it and matches the model, else None."""
        if not self.use_index or self.directory is None:
            return None
        if self._index is False:
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
    def holdout(self) -> bool:
        """The run was trained on the holdout's TRAIN part (so it has an evaluation split)."""
        return self.source.holdout

    def history(self, user: int, *, whole: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The input used at recommendation time: the user's TRAIN history for a holdout run (so the
        held-out items can show up as hits), the whole history otherwise or when `whole`."""
        return self.source.history(int(user), whole)

    def user_events(self, user: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All the user's interactions as (items, ratings, timestamps), in no particular order."""
        return self.source.user_events(int(user))

    def evaluation_split(self, max_users: int | None = None) -> Split | None:
        """The holdout split for the first `max_users` evaluated users (all: None); None without a holdout.
        A lean run reads just those users and splits them (the rule is per user: the same split)."""
        return self.source.evaluation_split(max_users)

    def item_bits(self) -> np.ndarray:
        """(n_items,) -log2 p_i of each item under the run's TRAIN positives (novelty)."""
        return self.source.item_bits()

    def default_user(self) -> int:
        """The user a list view opens on: the first test user of a holdout run, else the most active."""
        return self.source.default_user()

    def prepare(self) -> "LoadedRun":
        """Build, once, what every pick reads (the index, the users' histories of a full run)."""
        _ = self.index
        self.source.prepare()
        return self

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
    (engine.retrieval.vector_rows; for a large catalogue served by its ANN index)."""
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
        raise DataError(f"run {run_id}: a model file is missing ({exc.filename}); train the model again") from None
    except Exception as exc:  # noqa: BLE001 - damaged or swapped model files
        raise DataError(f"run {run_id}: the model files in {path} are damaged ({type(exc).__name__}: {exc}); "
                        "train the model again") from None
    return model


def check_model_files(directory: Path) -> None:
    """Refuse a model whose arrays hold NaN or infinite values (a diverged fit, a damaged file):
    checked when a run is saved and when it is loaded, so no 'done' run recommends nothing. Large
    float32 arrays are checked block by block (engine.retrieval.vector_rows), never read whole."""
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
