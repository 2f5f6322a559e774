"""The live recommendation view of one user, and the "I don't want Inception" feedback loop.

``UserRecommendations(run, user, store)`` scores the user's candidates once (``candidates()``,
cached) and re-ranks them on every slider move (``rerank(tradeoff, method, k)``: pure numpy on the
cached pool, no database access, well under a millisecond for N = 100).

Feedback is stored in the ``feedback`` table and takes effect at once, without retraining:

* like: the item joins the user's history (rated at the scale's maximum) and the model's pure-numpy
  ``score(history)`` re-encodes the user with it;
* dislike: the item leaves the history and the list, and its ``DEMOTE_NEIGHBOURS`` nearest
  neighbours (model space, else item text) lose ``DEMOTE_STRENGTH * similarity * spread`` of score,
  spread being the score range of the candidate pool: a neighbour with similarity 0.9 drops by 90 %
  of the pool's range, so it all but leaves the list;
* not interested: the item leaves the list, nothing else changes;
* avoid a category ("genre=Horror", "type=White"): its items leave the list;
* weight a category (a plain-words "less action, more comedy"): its items gain or lose
  ``WEIGHT_STRENGTH * weight * spread`` of score: a soft push, not a hide (weight -1 moves an item down
  by a quarter of the pool's score range); category "near=<item index>" is that item's
  ``DEMOTE_NEIGHBOURS`` nearest items ("more like X" pushes them up).

A plain-words sentence's entries share a sentence id: ``undo`` takes the whole sentence back.

The latest active feedback on an item wins; undo deactivates an entry (it stays in the table).
Feedback survives restarts: a new ``UserRecommendations`` reads it back from the database.

Both front ends use this one object. The CLI gives it the store (it reads and writes feedback
itself); the app gives it plain ``FeedbackEntry`` data (``feedback=``) and writes through the
module-level functions below (``give_feedback``, ``undo_and_list``: store first, plain data back),
so the app process never holds a database session for the live list.
"""
from __future__ import annotations

import copy
import dataclasses
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from engine.data.dataset import NO_TIMESTAMP
from engine.errors import EngineError, NotFoundError
from engine.evaluation import metrics as M
from engine.evaluation.protocol import topk_rows
from engine.explore.categories import category_mask
from engine.explore.explain import Contributor, contributor_matrix, explain
from engine.explore.feedback import (
    KINDS,
    Entry,
    FeedbackEntry,
    list_feedback,
    record_feedback,
    record_sentence,
    undo_sentence,
)
from engine.explore.rerank import METHODS, POOL_WIDEN, rerank
from engine.explore.rerank_space import pool_vectors, resolve_space
from engine.explore.similarity import (
    genre_matrix,
    genre_mix,
    model_vectors,
    nearest_items,
    similarity_matrix,
)
from engine.retrieval.index import index_serves
from engine.runs.lean import run_from_explore_parts
from engine.runs.loaded import LoadedRun, run_from_parts

DEMOTE_NEIGHBOURS = 20
DEMOTE_STRENGTH = 1.0
WEIGHT_STRENGTH = 0.25


@dataclass(frozen=True)
class RecRow:
    """One line of a recommendation list, ready to show."""
    item: int
    external_id: str
    title: str
    genres: tuple[str, ...]
    score: float            # the model's score (after dislike demotion)
    relevance: float        # score normalised to [0, 1] within the candidate pool
    rank: int               # 1-based position in the re-ranked list
    score_rank: int         # 1-based position by score alone
    promoted: bool          # brought in by the re-ranker (outside the top-k by score)
    gain: float             # diversity gain when picked (see engine.explore.rerank)
    explanation: str
    because: tuple[Contributor, ...]


@dataclass(frozen=True)
class ListMetrics:
    ild_model: float        # mean (1 - cos) over pairs in `space` (the model's item space, or text)
    ild_genre: float        # the same over genre/tag multi-hot vectors (pairs without genres skipped)
    mean_cosine: float      # the source article's diversity figure: mean pairwise cosine in `space`
    novelty: float          # mean -log2 p_i (bits), p_i from TRAIN positives (docs/evaluation.md)
    space: str


@dataclass(frozen=True)
class RecList:
    rows: tuple[RecRow, ...]
    metrics: ListMetrics
    method: str
    tradeoff: float
    seconds: float


@dataclass
class Candidates:
    """The cached pool a slider re-ranks: everything rerank() needs, already sliced."""
    items: np.ndarray          # (N,) int64, best score first
    scores: np.ndarray         # (N,) float32
    vectors: np.ndarray        # (N, d) unit rows in `space`
    space: str                 # the re-ranking space (engine.explore.rerank_space)
    genres: np.ndarray         # (N, G) multi-hot
    target: np.ndarray         # (G,) the user's genre mix (for calibration)
    history: np.ndarray        # unique history items the explanations refer to
    contrib: np.ndarray        # (N, len(history)) similarity used by the explanations
    contrib_space: str
    extra: dict = field(default_factory=dict)


def _now() -> str:
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")


def list_record(rec: "RecList", *, dataset: str, run: int, user: str, k: int, space: str,
                similarity=None) -> dict:
    """What a list view shows, as JSON-ready data: the CLI's `explore --json` and the app's
    `--screenshot` JSON both write this, so the two can be compared field by field."""
    def num(x: float):
        return None if x != x else round(float(x), 6)
    doc = {"dataset": dataset, "run": int(run), "user": str(user), "method": rec.method,
           "tradeoff": round(float(rec.tradeoff), 4), "k": int(k), "space": space, "rerank_space": rec.metrics.space,
           "items": [{"rank": r.rank, "item": r.external_id, "title": r.title, "score": num(r.score),
                      "promoted": r.promoted} for r in rec.rows],
           "metrics": {"ild_model": num(rec.metrics.ild_model), "ild_genre": num(rec.metrics.ild_genre),
                       "mean_cosine": num(rec.metrics.mean_cosine), "novelty": num(rec.metrics.novelty),
                       "space": rec.metrics.space}}
    if similarity is not None:
        doc["similarity"] = [[num(v) for v in row] for row in np.asarray(similarity, dtype=np.float64)]
    return doc


def live_list(run, user: int, feedback: list[FeedbackEntry], rerank_space: str | None = None) -> UserRecommendations:
    """A user's live list with its candidates scored, from plain data (what the app builds in a worker)."""
    view = UserRecommendations(run, user, feedback=feedback, rerank_space=rerank_space)
    view.candidates()
    return view


def prepare_run(run: LoadedRun) -> LoadedRun:
    """Build, once, what every user's live list of `run` reads: the run's index, the users' histories
    (a full run; a lean one reads each pick's user), the genre matrix and the items' novelty bits (cached
    for the run's lifetime). Run it where the run is loaded (a worker), so the first pick costs what
    every later pick costs (at 1M items the genre matrix alone took seconds). Returns the run."""
    run.prepare()
    genre_matrix(run.dataset)
    run.item_bits()
    return run


def open_run_for_live(info, dataset, path):
    """`run_from_parts` then `prepare_run`. A large catalogue served by its ANN index keeps its item vectors
    in the model file (rows read per pick)."""
    return prepare_run(run_from_parts(info, dataset, path, rows_on_demand=index_serves(path)))


def open_explore_run_for_live(info, dataset, path, counts):
    """The app's way to open a run for exploring: `run_from_explore_parts` (a lean run: no interaction
    table; the caller sets `run.source.store`) then `prepare_run`. A large catalogue served by its ANN index
    keeps its item vectors in the model file (rows read per pick)."""
    return prepare_run(run_from_explore_parts(info, dataset, path, counts, rows_on_demand=index_serves(path)))


class UserRecommendations:
    """One user's live, re-rankable recommendations over a loaded run (engine.runs.loaded.LoadedRun)."""

    def __init__(self, run, user: int, store=None, *, feedback: list[FeedbackEntry] | None = None,
                 n_candidates: int = 100, whole: bool = False, space: str | None = None,
                 rerank_space: str | None = None):
        """`feedback`: the active entries as plain data (the app); else read from `store` (the CLI).
        ``space``: where dislike neighbours and "more like X" are measured: "model" (default when the
        model has item vectors), "text", or "semantic" (the encoder's meaning space, once attached).
        ``rerank_space``: where the slider's diversity is measured (engine.explore.rerank_space: model,
        categories, semantic, text; resolve "auto" with engine.explore.space_choice first); default ``space``."""
        ds = run.dataset
        if not 0 <= int(user) < ds.n_users:
            raise NotFoundError(f"no user with index {user} in dataset {ds.info.name!r}")
        self.run, self.user, self.store = run, int(user), store
        self.dataset, self.model = ds, run.model
        self.n_candidates = int(n_candidates)
        if space not in (None, "model", "text", "semantic"):
            raise EngineError(f"unknown space {space!r}; choose model, text or semantic")
        self.space = space
        self.rerank_space = None if rerank_space is None else resolve_space(rerank_space, ds, run.model)
        items, ratings = run.history(self.user, whole=True) if whole else run.history(self.user)
        self.base_items, self.base_ratings = np.asarray(items), np.asarray(ratings, dtype=np.float32)
        if feedback is not None:
            self._feedback: list[FeedbackEntry] = list(feedback)
        else:
            self._feedback = list_feedback(store, run.info.dataset_id, self.user) if store is not None else []
        self._next_local_id = -1          # ids for feedback kept in memory when there is no store
        self._cand: Candidates | None = None
        self._events = run.user_events(self.user)    # read now (a worker): the views ask on the GUI thread
        self._bits = run.item_bits()

    # ---- feedback -------------------------------------------------------------------------------
    @property
    def feedback(self) -> list[FeedbackEntry]:
        return list(self._feedback)

    def set_feedback(self, entries: list[FeedbackEntry]) -> None:
        """Replace the active feedback (as read back after a write, or from another process)."""
        entries = list(entries)
        if [(e.id, e.item, e.kind) for e in entries] != [(e.id, e.item, e.kind) for e in self._feedback]:
            self._cand = None
        self._feedback = entries

    def with_feedback(self, entries: list[FeedbackEntry]) -> "UserRecommendations":
        """A copy with `entries` in force and its candidates scored (run it in a worker: the copy is
        handed over whole, so the list on screen is never half-updated)."""
        other = copy.copy(self)
        other._feedback = list(self._feedback)
        other.set_feedback(entries)
        other.candidates()
        return other

    def like(self, item: int) -> int:
        return self._add(item, "like")

    def dislike(self, item: int) -> int:
        return self._add(item, "dislike")

    def not_interested(self, item: int) -> int:
        return self._add(item, "not_interested")

    def undo(self, feedback_id: int | None = None) -> None:
        """Undo one action (default: the latest): an entry, or the whole sentence it belongs to."""
        if not self._feedback:
            raise NotFoundError("there is no feedback to undo")
        fid = self._feedback[-1].id if feedback_id is None else int(feedback_id)
        entry = next((f for f in self._feedback if f.id == fid), None)
        if entry is None:
            raise NotFoundError(f"no active feedback {fid} for this user")
        if self.store is not None and fid > 0:
            undo_sentence(self.store, fid)
        gone = {f.id for f in self._feedback if f.id == fid or (
            entry.sentence_id is not None and f.sentence_id == entry.sentence_id)}
        self._feedback = [f for f in self._feedback if f.id not in gone]
        self._cand = None

    def say(self, sentence: str, entries: list[Entry]) -> list[int]:
        """Record a sentence's entries as one undoable action; returns their ids."""
        entries = list(entries)
        for e in entries:
            if e.kind in KINDS and not 0 <= int(e.item) < self.dataset.n_items:
                raise NotFoundError(f"no item with index {e.item} in dataset {self.dataset.info.name!r}")
        if not entries:
            return []
        if self.store is not None:
            ids = record_sentence(self.store, self.run.info.dataset_id, self.user, sentence, entries)
        else:
            ids = list(range(self._next_local_id, self._next_local_id - len(entries), -1))
            self._next_local_id -= len(entries)
        now = _now()
        self._feedback += [FeedbackEntry(fid, int(e.item) if e.kind in KINDS else -1, e.kind, now, e.category,
                                         float(e.weight), ids[0], sentence) for fid, e in zip(ids, entries)]
        self._cand = None
        return ids

    def _add(self, item: int, kind: str) -> int:
        if not 0 <= int(item) < self.dataset.n_items:
            raise NotFoundError(f"no item with index {item} in dataset {self.dataset.info.name!r}")
        if self.store is not None:
            fid = record_feedback(self.store, self.run.info.dataset_id, self.user, int(item), kind)
        else:
            fid, self._next_local_id = self._next_local_id, self._next_local_id - 1
        self._feedback.append(FeedbackEntry(fid, int(item), kind, _now()))
        self._cand = None
        return fid

    def _state(self) -> dict[int, str]:
        state: dict[int, str] = {}
        for f in self._feedback:             # oldest first: the latest entry on an item wins
            if f.kind not in KINDS:
                continue
            state.pop(f.item, None)
            state[f.item] = f.kind
        return state

    def history(self) -> tuple[np.ndarray, np.ndarray]:
        """The model's input now: the run's history minus dislikes, plus likes (in feedback order)."""
        state = self._state()
        drop = [i for i, k in state.items() if k == "dislike"]
        likes = [i for i, k in state.items() if k == "like"]
        keep = ~np.isin(self.base_items, drop + likes)
        top = self.dataset.info.rating_max
        like_rating = np.float32(np.nan if top is None else top)
        items = np.concatenate([self.base_items[keep], np.asarray(likes, dtype=self.base_items.dtype)])
        ratings = np.concatenate([np.asarray(self.base_ratings, np.float32)[keep],
                                  np.full(len(likes), like_rating, np.float32)])
        return items, ratings

    def timeline(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``history()`` with a unix time per item (oldest first): the interaction's timestamp, or when
        the like was given (``NO_TIMESTAMP`` where unknown). What a history view shows."""
        items, ratings = self.history()
        ev_items, _, ev_times = self._events
        when = dict(zip(ev_items.tolist(), ev_times.tolist()))
        for f in self._feedback:
            if f.kind == "like" and f.created_at:
                t = datetime.fromisoformat(f.created_at)
                when[f.item] = int((t if t.tzinfo else t.replace(tzinfo=timezone.utc)).timestamp())
        times = np.array([when.get(int(i), NO_TIMESTAMP) for i in items], dtype=np.int64)
        return items, ratings, times

    def n_interactions(self) -> int:
        """The user's interaction count with the feedback in force (likes added, dislikes removed)."""
        seen = set(self._events[0].tolist())
        state = self._state()
        return len(seen) + sum(1 for i, k in state.items() if k == "like" and i not in seen) \
            - sum(1 for i, k in state.items() if k == "dislike" and i in seen)

    # ---- candidates and the live list -------------------------------------------------------------
    def candidates(self, n: int | None = None) -> Candidates:
        """Score the user once and keep the top-n pool (cached until feedback changes it)."""
        n = self.n_candidates if n is None else int(n)
        if self._cand is not None and len(self._cand.items) == min(n * POOL_WIDEN, self._cand.extra["available"]):
            return self._cand
        ds = self.dataset
        items, ratings = self.history()
        state = self._state()
        excluded = np.concatenate([self.base_items, np.fromiter(state, dtype=np.int64, count=len(state))])
        dislikes = [i for i, k in state.items() if k == "dislike"]
        if self.run.index is not None:
            # large catalogue: only an ANN pool is scored (wide enough for the dislike demotion)
            pool, pool_scores = self.run.top_candidates(items, ratings, POOL_WIDEN * n + DEMOTE_NEIGHBOURS * len(dislikes),
                                                        exclude=excluded)
            scores = np.full(ds.n_items, -np.inf)
            scores[pool] = pool_scores
        else:
            scores = np.array(self.model.score(items, ratings), dtype=np.float64)
        excluded = excluded.astype(np.int64)
        scores[excluded[excluded < len(scores)]] = -np.inf
        space = self._space()
        self._apply_categories(scores)
        available = int(np.isfinite(scores).sum())
        if dislikes and available:
            pool = topk_rows(scores[None, :], min(n, available))[0]
            spread = float(scores[pool[0]] - scores[pool[-1]]) or 1.0
            nb, sims = nearest_items(dislikes, space, dataset=ds, model=self.model, n=DEMOTE_NEIGHBOURS)
            for row_items, row_sims in zip(nb, sims):
                scores[row_items] -= DEMOTE_STRENGTH * spread * np.maximum(row_sims, 0.0)
        # the slider's pool: POOL_WIDEN x n, relevance scaled on the best n (engine.explore.rerank)
        top = topk_rows(scores[None, :], min(n * POOL_WIDEN, available))[0] if available else np.zeros(0, np.int64)
        rspace = self._rerank_space()
        vectors = pool_vectors(rspace, top, dataset=ds, model=self.model)    # same cosines, at most N dims
        gm = genre_matrix(ds)
        hist_unique = np.unique(items.astype(np.int64))
        target = genre_mix(gm[hist_unique])
        contrib, cspace = (contributor_matrix(top, hist_unique, dataset=ds, model=self.model)
                           if len(hist_unique) and len(top) else (np.zeros((len(top), 0), np.float32), space))
        self._cand = Candidates(top.astype(np.int64), scores[top].astype(np.float32), vectors, rspace,
                                gm[top], target, hist_unique, contrib, cspace, extra={"available": available})
        return self._cand

    def _apply_categories(self, scores: np.ndarray) -> None:
        """Avoided categories leave the list; weighted ones move by a share of the pool's score range."""
        ds = self.dataset
        avoid = [f.category for f in self._feedback if f.kind == "avoid" and f.category]
        weights: dict[str, float] = {}
        for f in self._feedback:
            if f.kind == "weight" and f.category:
                weights[f.category] = weights.get(f.category, 0.0) + float(f.weight)
        for c in avoid:
            scores[category_mask(ds, c)[:len(scores)]] = -np.inf
        finite = np.isfinite(scores)
        if not weights or not finite.any():
            return
        pool = topk_rows(np.where(finite, scores, -np.inf)[None, :], min(self.n_candidates, int(finite.sum())))[0]
        spread = float(scores[pool[0]] - scores[pool[-1]]) or 1.0
        for c, w in weights.items():
            if c.startswith("near="):     # "more like X": X's nearest items (category "near=<item index>")
                nb, sims = nearest_items([int(c[5:])], self._space(), dataset=ds, model=self.model,
                                         n=DEMOTE_NEIGHBOURS)
                mask = np.zeros(len(scores), dtype=bool)
                mask[np.asarray(nb[0], dtype=np.int64)] = True
                mask &= finite
            else:
                mask = category_mask(ds, c)[:len(scores)] & finite
            scores[mask] += WEIGHT_STRENGTH * w * spread

    def rerank(self, tradeoff: float = 0.0, method: str = "mmr", k: int = 10) -> RecList:
        """The list of k at this trade-off, with per-item facts and list metrics (no DB access)."""
        start = time.perf_counter()
        if method not in METHODS:
            raise EngineError(f"unknown re-ranking method {method!r}; choose one of {', '.join(METHODS)}")
        c = self.candidates()
        ds = self.dataset
        if len(c.items) == 0:
            nan = float("nan")
            return RecList((), ListMetrics(nan, nan, nan, nan, c.space), method, float(tradeoff), 0.0)
        res = rerank(c.scores, c.vectors, k, tradeoff, method, genres=c.genres, target=c.target,
                     relevance_top=self.n_candidates)
        picked = c.items[res.order]
        expl = explain(picked, c.history, dataset=ds, promoted=res.promoted, gains=res.gain,
                       matrix=(c.contrib[res.order], c.contrib_space))
        score_rank = np.empty(len(c.items), dtype=np.int64)
        score_rank[np.argsort(-c.scores.astype(np.float64), kind="stable")] = np.arange(1, len(c.items) + 1)
        rows = tuple(
            RecRow(item=int(it), external_id=str(ds.item_ids[it]), title=ds.titles[it], genres=tuple(ds.genres[it]),
                   score=float(c.scores[o]), relevance=float(res.relevance[r]), rank=r + 1,
                   score_rank=int(score_rank[o]), promoted=bool(res.promoted[r]), gain=float(res.gain[r]),
                   explanation=e.text, because=e.because)
            for r, (it, o, e) in enumerate(zip(picked, res.order, expl)))
        local = np.arange(len(picked))
        metrics = ListMetrics(
            ild_model=M.ild(local, c.vectors[res.order]),
            ild_genre=M.ild(local, c.genres[res.order]),
            mean_cosine=M.mean_pairwise_cosine(local, c.vectors[res.order]),
            novelty=float(self._bits[picked].mean()),
            space=c.space)
        return RecList(rows, metrics, method, float(tradeoff), time.perf_counter() - start)

    def similarity(self, items, space: str = "model") -> np.ndarray:
        """(k, k) similarity of listed items in `space` ("model" falls back to text without vectors)."""
        space = self._space() if space == "model" else space
        return np.asarray(similarity_matrix(np.asarray(items, np.int64), space, dataset=self.dataset,
                                            model=self.model), dtype=np.float64)

    def set_rerank_space(self, space: str) -> None:
        """Re-rank in another space from now on: only the cached pool's vectors change (no re-scoring)."""
        space = resolve_space(space, self.dataset, self.model)
        if space == self.rerank_space:
            return
        self.rerank_space = space
        if self._cand is not None:
            c = self._cand
            self._cand = dataclasses.replace(c, vectors=pool_vectors(space, c.items, dataset=self.dataset,
                                                                     model=self.model), space=space)

    def neighbour_space(self) -> str:
        """Where dislikes demote neighbours and "more like X" finds them (model, else text; or semantic)."""
        return self._space()

    def _rerank_space(self) -> str:
        return self.rerank_space if self.rerank_space is not None else self._space()

    def _space(self) -> str:
        if self.space is not None:
            return self.space
        try:
            model_vectors(self.model)
            return "model"
        except EngineError:
            return "text"

