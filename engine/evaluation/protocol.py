"""Evaluation per docs/evaluation.md: full ranking over the catalogue minus each user's TRAIN items,
users scored in batches (memory bounded by batch_users x n_items), top-K by np.argpartition.

`rank_users` produces the lists, `list_metrics` measures any lists (re-ranked ones too), and
`evaluate` is the two together (engine.runs.baselines.evaluate_baselines fits the baselines on the
same TRAIN so every report can put a model beside them).

Activity groups count a user's TRAIN interactions (positives and non-positives). Lists with no
pair of items that both have genres are left out of the ILD average; NaN becomes None so the
result is valid JSON (stored as a run's metrics)."""
from __future__ import annotations

import math

import numpy as np

from engine.data.split import SCORED_CELLS, Split, scored_sample
from engine.evaluation import metrics as M
from engine.jobs.cancel import check
from engine.types import StepProgress

ACTIVITY_GROUPS: tuple[tuple[str, int, int], ...] = (("<20", 0, 19), ("20-100", 20, 100), (">100", 101, 1 << 62))


def topk_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """(n, k) item indices of each row's k best scores, best first; ties broken by lower item index."""
    n_items = scores.shape[1]
    k = min(k, n_items)
    if np.isnan(scores).any():          # a broken score never outranks a real one
        scores = np.where(np.isnan(scores), -np.inf, scores)
    if k == 0:
        return np.zeros((scores.shape[0], 0), dtype=np.int64)
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    kth = np.take_along_axis(scores, part, axis=1).min(axis=1)
    out = np.empty((scores.shape[0], k), dtype=np.int64)
    for r in range(scores.shape[0]):
        cand = np.flatnonzero(scores[r] >= kth[r])          # ascending index: ties keep index order
        out[r] = cand[np.argsort(-scores[r, cand], kind="stable")[:k]]
    return out


SCORE_FLOATS = 1 << 25   # scores held per batch of users (128 MiB of float32), whatever the catalogue's size


def users_per_batch(wanted: int, n_items: int) -> int:
    """At most `wanted` users, and no more than SCORE_FLOATS scores a batch: 256 users against a million
    items were 1 GiB of scores (2 GiB for the training's 512 validation users), now 33 users and 128 MiB."""
    return max(1, min(int(wanted), SCORE_FLOATS // max(1, int(n_items))))


def rank_users(model, split: Split, k: int, *, users: np.ndarray | None = None, progress=None, cancel=None,
               batch_users: int = 256, stage: str = "evaluating users") -> np.ndarray:
    """Top-k lists (len(users), k) from each user's TRAIN history, TRAIN items excluded. `progress` gets
    StepProgress(stage, users done, users) before the first batch and after each."""
    users = split.test_users if users is None else np.asarray(users)
    hist = split.histories
    batch_users = users_per_batch(batch_users, split.train.n_items)
    out = np.zeros((len(users), min(k, split.train.n_items)), dtype=np.int64)
    if progress is not None:
        progress(StepProgress(stage, 0, len(users)))
    for a in range(0, len(users), batch_users):
        check(cancel)
        batch = users[a:a + batch_users]
        items = [hist(int(u))[0] for u in batch]
        ratings = [hist(int(u))[1] for u in batch]
        scores = np.array(model.score_many(items, ratings), dtype=np.float32)
        for r, h in enumerate(items):
            scores[r, h] = -np.inf
        out[a:a + len(batch)] = topk_rows(scores, k)
        if progress is not None:
            progress(StepProgress(stage, min(a + batch_users, len(users)), len(users)))
    return out


def _clean(x):
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (float, np.floating)):
        return None if math.isnan(float(x)) else float(x)
    if isinstance(x, np.integer):
        return int(x)
    return x


ILD_ROWS = 4096   # lists per block for the genre ILD (its pairwise similarities are (rows, k, k) float64)


def _ild_model_rows(lists: np.ndarray, vectors: np.ndarray, chunk: int = 1 << 16) -> np.ndarray:
    """ILD per list, in blocks of `chunk` lists (metrics.ild_rows blocks its own products further)."""
    return np.concatenate([M.ild_rows(lists[a:a + chunk], vectors) for a in range(0, len(lists), chunk)]) \
        if len(lists) else np.zeros(0)


def list_metrics(lists: np.ndarray, split: Split, ks=(10, 20), *, model_vectors: np.ndarray | None = None,
                 genre_vectors: np.ndarray | None = None, item_bits: np.ndarray | None = None) -> dict:
    """Every docs/evaluation.md metric for ranked lists of `split.test_users` (row r = test user r).
    `item_bits`: the novelty bits when `split.train` is not the whole TRAIN part (a lean run's split of
    a few users); by default they come from `split.train`'s positives."""
    train = split.train
    n_items = train.n_items
    gv = M.genre_vectors(train) if genre_vectors is None else genre_vectors
    if item_bits is None:
        pos = train.positive_mask()
        counts = np.bincount(train.item_idx[pos], minlength=n_items)
        bits = -np.log2(M.item_probabilities(counts))
    else:
        bits = item_bits
    n_rel = np.array([len(t) for t in split.test_items], dtype=np.int64)
    hits = np.zeros(lists.shape, dtype=bool)
    for r, t in enumerate(split.test_items):
        hits[r] = np.isin(lists[r], t)
    activity = split.histories.counts()[split.test_users]

    per_user: dict[str, np.ndarray] = {}
    for k in ks:
        lk = lists[:, :k]
        for name, vals in M.accuracy_rows(hits, n_rel, k).items():
            per_user[f"{name}@{k}"] = vals
        per_user[f"ild_genre@{k}"] = _ild_model_rows(lk, gv, ILD_ROWS)   # in blocks: (n, k, k) float64 at once
                                                                        # was 2 GB at 160k users
        per_user[f"ild_model@{k}"] = (_ild_model_rows(lk, model_vectors) if model_vectors is not None
                                      else np.full(len(lk), np.nan))
        per_user[f"novelty@{k}"] = bits[lk].mean(axis=1) if lk.shape[1] else np.full(len(lk), np.nan)

    def summarise(mask: np.ndarray) -> dict:
        out: dict = {"n_users": int(mask.sum())}
        for key, vals in per_user.items():
            v = vals[mask]
            v = v[~np.isnan(v)]
            out[key] = float(v.mean()) if len(v) else float("nan")
        for k in ks:
            lk = lists[mask, :k]
            rec_counts = np.bincount(lk.reshape(-1), minlength=n_items)
            out[f"coverage@{k}"] = float((rec_counts > 0).sum() / n_items) if n_items else 0.0
            out[f"gini@{k}"] = M.gini(rec_counts)
            nd = per_user[f"ndcg@{k}"][mask]
            out[f"ndcg_se@{k}"] = float(nd.std(ddof=1) / np.sqrt(len(nd))) if len(nd) > 1 else float("nan")
        return out

    result = summarise(np.ones(len(lists), dtype=bool))
    result["by_activity"] = {name: summarise((activity >= lo) & (activity <= hi))
                             for name, lo, hi in ACTIVITY_GROUPS}
    result["split"] = dict(split.stats)
    return _clean(result)


def sample_note(metrics: dict | None) -> str | None:
    """What the CLI and the app say when the metrics come from a sample of the users (None when not)."""
    split = (metrics or {}).get("split") or {}
    if not split.get("evaluated_sample"):
        return None
    return (f"metrics from {split['evaluated_sample']:,} of the {split['evaluated_all']:,} evaluated users, drawn "
            f"at random (seed 0): all of them against {split['items']:,} items would be "
            f"{split['evaluated_all'] * split['items']:,} scores, over the {SCORED_CELLS:,} an evaluation computes")


def evaluate(model, split: Split, ks=(10, 20), progress=None, cancel=None, batch_users: int = 256,
             stage: str = "evaluating users", cells: int | str | None = "auto") -> dict:
    """Full-ranking evaluation of a fitted model on the split's TEST positives (flat metric keys
    like "ndcg@10", plus "n_users", "by_activity" and the split's statistics under "split");
    `stage` names the progress updates (users done of users). Above `cells` scores (users x items) the
    users are a seeded random sample (engine.data.split.scored_sample, "auto": its SCORED_CELLS; noted
    under "split"); None: all."""
    split = scored_sample(split, cells)
    lists = rank_users(model, split, max(ks), progress=progress, cancel=cancel, batch_users=batch_users,
                       stage=stage)
    return list_metrics(lists, split, ks, model_vectors=model.item_vectors())
