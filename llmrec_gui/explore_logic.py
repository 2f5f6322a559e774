"""The explorer's computations, no Qt: candidates for a user (computed once per user), then a
re-ranked list, its similarity matrix and its metrics from the cached candidates (milliseconds,
so the diversity slider can re-rank live on the GUI thread). Uses the engine's run, re-ranking,
similarity, explanation and feedback modules, with small numpy fallbacks while one is missing."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

N_CANDIDATES = 100
SPACES = ("model", "text", "genres")
METHODS = ("mmr", "dpp")


@dataclass(frozen=True)
class UserCandidates:
    user: int
    history_items: np.ndarray      # time order (oldest first), feedback applied
    history_ratings: np.ndarray
    history_times: np.ndarray      # int64 unix seconds (NO_TIMESTAMP where missing)
    items: np.ndarray              # top-N candidates by score, seen items excluded
    scores: np.ndarray
    feedback: tuple = ()           # ((item, kind), ...) applied


@dataclass(frozen=True)
class RecList:
    user: int
    items: np.ndarray              # (k,) item indices, list order
    scores: np.ndarray             # model scores
    promoted: np.ndarray           # bool: brought in by the re-ranker
    titles: list
    genres: list
    similarity: np.ndarray         # (k, k) in the chosen space
    space: str
    metrics: dict
    explanations: list = field(default_factory=list)
    tradeoff: float = 0.0
    method: str = "mmr"


def short_title(title: str, n: int = 18) -> str:
    t = re.sub(r"\s*\(\d{4}\)$", "", title)
    return t if len(t) <= n else t[: n - 1] + "…"


def _unit_rows(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    n = np.linalg.norm(v, axis=1, keepdims=True)
    return np.divide(v, n, out=np.zeros_like(v), where=n > 0)


class ExploreSession:
    """One loaded run and what the explorer caches about it."""

    def __init__(self, loaded):
        from engine.metrics import genre_vectors
        self.loaded = loaded
        self.info = loaded.info
        self.ds = loaded.dataset
        self.model = loaded.model
        mv = self.model.item_vectors()
        self.genre_vectors = _unit_rows(genre_vectors(self.ds))
        # the protocol's item_vectors() rows are already unit length: no copy (EASE's are n_items wide)
        self.model_vectors = None if mv is None else np.asarray(mv)
        train = loaded.split.train if getattr(loaded, "split", None) is not None else self.ds
        pos = train.positive_mask()
        self.train_positive_counts = np.bincount(train.item_idx[pos], minlength=self.ds.n_items)
        self.user_counts = np.bincount(self.ds.user_idx, minlength=self.ds.n_users)
        self._user_start = np.searchsorted(self.ds.user_idx, np.arange(self.ds.n_users + 1))
        self._pool_cache: dict = {}

    @classmethod
    def load(cls, store, run_id: int) -> "ExploreSession":
        from engine.runs import load_run
        return cls(load_run(store, run_id))

    @property
    def model_space(self) -> str:
        """The space the re-ranker and explanations use: the model's own, else the item text."""
        return "model" if self.model_vectors is not None else "text"

    def _pool(self, cand: UserCandidates) -> dict:
        """Per candidate pool (cached): the vectors the re-ranker uses and the explanation matrix."""
        if self._pool_cache.get("key") is not cand:
            from engine.explain import contributor_matrix
            from engine.similarity import text_index
            if self.model_vectors is not None:
                vec = self.model_vectors[cand.items]
            else:
                vec = _unit_rows(np.asarray(text_index(self.ds).dense_rows(cand.items)[0]))
            hist = np.unique(cand.history_items)
            matrix = contributor_matrix(cand.items, hist, dataset=self.ds, model=self.model) if len(hist) else None
            self._pool_cache = {"key": cand, "vectors": vec, "matrix": matrix}
        return self._pool_cache

    # ---- users -----------------------------------------------------------------------
    def users(self) -> list[tuple[int, str, int]]:
        return [(u, str(self.ds.user_ids[u]), int(self.user_counts[u])) for u in range(self.ds.n_users)]

    def default_user(self) -> int:
        split = getattr(self.loaded, "split", None)
        if split is not None and len(split.test_users):
            return int(split.test_users[0])
        return int(np.argmax(self.user_counts))

    def _times(self, user: int, items: np.ndarray) -> np.ndarray:
        a, b = self._user_start[user], self._user_start[user + 1]
        lookup = dict(zip(self.ds.item_idx[a:b].tolist(), self.ds.timestamp[a:b].tolist()))
        from engine.data.dataset import NO_TIMESTAMP
        return np.array([lookup.get(int(i), NO_TIMESTAMP) for i in items], dtype=np.int64)

    def candidates(self, user: int, feedback: tuple = (), n: int = N_CANDIDATES) -> UserCandidates:
        """Score every item for the user (history plus feedback in force); keep the top `n` unseen."""
        items, ratings = self.loaded.history(user)
        items = np.asarray(items, dtype=np.int64)
        ratings = np.asarray(ratings if ratings is not None else np.full(len(items), np.nan), dtype=np.float32)
        times = self._times(user, items)
        liked = [i for i, k in feedback if k == "like" and i not in set(items.tolist())]
        blocked = {i for i, k in feedback if k in ("dislike", "not_interested")}
        if liked:
            top = np.float32(self.ds.info.rating_max if self.ds.info.rating_max is not None else np.nan)
            items = np.concatenate([items, np.asarray(liked, dtype=np.int64)])
            ratings = np.concatenate([ratings, np.full(len(liked), top, dtype=np.float32)])
            times = np.concatenate([times, np.full(len(liked), int(times.max(initial=0)) + 1, dtype=np.int64)])
        # the engine's retrieval: the run's ANN index when it has one (large catalogues), else exact scoring
        exclude = np.concatenate([items, np.asarray(sorted(blocked), dtype=np.int64)])
        top, scores = self.loaded.top_candidates(items, ratings, n, exclude=exclude)
        return UserCandidates(user, items, ratings, times, np.asarray(top, dtype=np.int64),
                              np.asarray(scores, dtype=np.float64), tuple(feedback))

    # ---- the list --------------------------------------------------------------------
    def make_list(self, cand: UserCandidates, *, k: int = 10, tradeoff: float = 0.0, method: str = "mmr",
                  space: str = "model") -> RecList:
        """Re-rank the cached candidates; the list, its similarity matrix, metrics and explanations."""
        from engine.explain import explain
        from engine.rerank import rerank
        if len(cand.items) == 0:
            z = np.zeros(0)
            return RecList(cand.user, z.astype(np.int64), z, z.astype(bool), [], [], np.zeros((0, 0)), space, {},
                           [], tradeoff, method)
        pool = self._pool(cand)
        res = rerank(cand.scores, pool["vectors"], k, tradeoff, method)
        items = cand.items[res.order]
        matrix = None if pool["matrix"] is None else (pool["matrix"][0][res.order], pool["matrix"][1])
        why = explain(items, cand.history_items, dataset=self.ds, model=self.model, promoted=res.promoted,
                      gains=res.gain, matrix=matrix)
        return RecList(cand.user, items, cand.scores[res.order], np.asarray(res.promoted, dtype=bool),
                       [self.ds.titles[i] for i in items], [self.ds.genres[i] for i in items],
                       self.similarity(items, space), space, self.list_metrics(items), [e.text for e in why],
                       tradeoff, method)

    def similarity(self, items: np.ndarray, space: str) -> np.ndarray:
        """(k, k) similarity in `space` (the text space stands in when the model has no vectors)."""
        from engine.similarity import similarity_matrix
        if space == "model":
            space = self.model_space
        return np.asarray(similarity_matrix(items, space, dataset=self.ds, model=self.model), dtype=np.float64)

    def list_metrics(self, items: np.ndarray) -> dict:
        """ILD in the genre space (EVALUATION.md) and the model's space, the article's mean pairwise
        cosine (model space), and novelty."""
        from engine.metrics import ild, novelty
        from engine.similarity import ild as sim_ild
        from engine.similarity import mean_pairwise_similarity
        sim = self.similarity(items, "model")
        return {"ILD (genres)": float(ild(items, self.genre_vectors)),
                f"ILD ({self.model_space})": float(sim_ild(sim)),
                "mean pairwise cosine": float(mean_pairwise_similarity(sim)),
                "novelty": float(novelty([items], self.train_positive_counts))}

    # ---- the accuracy-diversity frontier ---------------------------------------------
    def frontier(self, method: str = "mmr", points: int = 11, progress=None, cancel=None,
                 max_users: int = 400) -> list[dict]:
        """The sweep (engine.frontier) on up to `max_users` test users: enough for the shape, quick."""
        from engine.frontier import frontier
        return frontier(self.loaded, method, points, progress, cancel, max_users=max_users)
