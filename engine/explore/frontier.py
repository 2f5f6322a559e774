"""The accuracy-diversity frontier: how NDCG@10 trades against ILD@10 as the re-ranker's slider
moves, measured on a run's evaluation split (docs/evaluation.md).

Each evaluated user's top-N candidates (N = 100) are scored once, with TRAIN items excluded; then
for every trade-off value the candidates are re-ranked into a list of k and the lists are measured
with engine.evaluation.protocol.list_metrics, the same code that measures the models themselves."""
from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
import time
from pathlib import Path

import numpy as np

from engine.errors import EngineError
from engine.evaluation.protocol import list_metrics, topk_rows
from engine.explore.rerank import METHODS, POOL_WIDEN, rerank
from engine.explore.rerank_space import has_model_vectors, pool_vectors, resolve_space
from engine.explore.similarity import genre_matrix, genre_mix, model_vectors
from engine.jobs.cancel import check
from engine.runs.loaded import LoadedRun
from engine.types import StepProgress

COLUMNS = ("tradeoff", "ndcg@{k}", "recall@{k}", "hit_rate@{k}", "ild_genre@{k}", "ild_model@{k}",
           "coverage@{k}", "novelty@{k}", "gini@{k}", "promoted@{k}", "seconds")


def candidate_pool(model, split, users: np.ndarray, n: int, *, batch_users: int = 256,
                   cancel=None, progress=None) -> tuple[np.ndarray, np.ndarray]:
    """(len(users), n) best items and their scores from each user's TRAIN history, TRAIN items excluded."""
    hist = split.histories
    n = min(n, split.train.n_items)
    items = np.zeros((len(users), n), dtype=np.int64)
    scores = np.zeros((len(users), n), dtype=np.float32)
    for a in range(0, len(users), batch_users):
        check(cancel)
        batch = users[a:a + batch_users]
        hs = [hist(int(u)) for u in batch]
        s = np.array(model.score_many([h[0] for h in hs], [h[1] for h in hs]), dtype=np.float32)
        for r, h in enumerate(hs):
            s[r, h[0]] = -np.inf
        top = topk_rows(s, n)
        items[a:a + len(batch)] = top
        scores[a:a + len(batch)] = np.take_along_axis(s, top, axis=1)
        if progress is not None:
            progress(StepProgress("scoring candidates", min(a + batch_users, len(users)), len(users)))
    return items, scores


CHECK_EVERY = 32   # users between cancel checks: a closing app waits at most ~0.2 s for a sweep to stop
USER_PARTS = ("all", "selection", "report")


def user_part(split, part: str):
    """The evaluated users a sweep measures: all, or one of two fixed halves (even / odd user index).
    The re-ranking space is chosen on the "selection" half (engine.explore.space_choice) and figures
    about the chosen space are reported on the other half, so no choice is scored on the users it was
    made on."""
    if part == "all":
        return split
    if part not in USER_PARTS:
        raise EngineError(f"unknown user part {part!r}; choose one of {', '.join(USER_PARTS)}")
    keep = (np.asarray(split.test_users) % 2 == 0) == (part == "selection")
    return dataclasses.replace(split, test_users=split.test_users[keep],
                               test_items=[t for t, k in zip(split.test_items, keep) if k])


def frontier(run: LoadedRun, method: str = "mmr", points: int = 11, progress=None, cancel=None, *, k: int = 10,
             n_candidates: int = 100, max_users: int | None = None, window: int | None = None,
             space: str = "model", users: str = "all", widen: int = POOL_WIDEN) -> list[dict]:
    """One row per trade-off value in linspace(0, 1, points): accuracy and beyond-accuracy at k, the lists
    re-ranked in ``space`` (engine.explore.rerank_space; ``model`` without item vectors is ``text``), over
    ``users`` (all evaluated users, or the selection / report half)."""
    if method not in METHODS:
        raise EngineError(f"unknown re-ranking method {method!r}; choose one of {', '.join(METHODS)}")
    if points < 2:
        raise EngineError("the frontier needs at least 2 points")
    split = run.evaluation_split(max_users)    # a lean run reads just these users
    if split is None:
        raise EngineError("this run was trained without a holdout, so it has no evaluation split; "
                          "train it with a holdout to draw its frontier")
    # a lean run's split holds only the measured users: novelty needs the whole TRAIN part's counts
    bits = run.item_bits()
    split = user_part(split, users)
    model, ds = run.model, run.dataset
    space = resolve_space(space, ds, model)
    users = split.test_users
    cand, cand_scores = candidate_pool(model, split, users, n_candidates * widen, cancel=cancel, progress=progress)
    gm = genre_matrix(ds)
    vectors = model_vectors(model) if has_model_vectors(model) else None    # ILD in the model's own space
    targets = None
    if method == "calibration":
        hist = split.histories
        targets = [genre_mix(gm[np.unique(hist(int(u))[0])]) for u in users]
    # a small catalogue leaves a user fewer unseen items than the pool holds: their -inf tail is cut (kept
    # down to k, below the last real score, so a list is always k long)
    widths = np.maximum(np.isfinite(cand_scores).sum(axis=1), min(k, cand.shape[1]))
    floor = np.where(np.isfinite(cand_scores), cand_scores, np.inf).min(axis=1) - 1.0
    cand_scores = np.where(np.isfinite(cand_scores), cand_scores, np.where(np.isfinite(floor), floor, 0.0)[:, None])
    pools = []                               # per user: the candidates' vectors, computed once
    for r in range(len(users)):
        pools.append(pool_vectors(space, cand[r][:widths[r]], dataset=ds, model=model))
        if r % CHECK_EVERY == 0:
            check(cancel)
    rows = []
    for p, t in enumerate(np.linspace(0.0, 1.0, points)):
        check(cancel)
        start = time.perf_counter()
        lists = np.zeros((len(users), min(k, cand.shape[1])), dtype=np.int64)
        promoted = 0
        for r in range(len(users)):
            v = pools[r]
            w = widths[r]
            res = rerank(cand_scores[r][:w], v, k, float(t), method, window=window, genres=gm[cand[r][:w]],
                         target=None if targets is None else targets[r], relevance_top=n_candidates)
            lists[r] = cand[r][:w][res.order]
            promoted += int(res.promoted.sum())
            if r % CHECK_EVERY == 0:
                check(cancel)
        m = list_metrics(lists, split, ks=(k,), model_vectors=vectors, genre_vectors=gm, item_bits=bits)
        row = {"tradeoff": round(float(t), 6), "space": space}
        for col in COLUMNS[1:-2]:
            key = col.format(k=k)
            row[key] = m.get(key)
        row[f"promoted@{k}"] = promoted / max(len(users), 1)
        row["n_users"] = int(len(users))
        row["seconds"] = round(time.perf_counter() - start, 3)
        rows.append(row)
        if progress is not None:
            progress(StepProgress(f"frontier ({method})", p + 1, points))
    return rows


def to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    if rows:
        w = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return out.getvalue()


def to_table(rows: list[dict]) -> str:
    """A plain text table, one line per trade-off value."""
    if not rows:
        return ""
    cols = list(rows[0])
    cells = [[_fmt(r[c]) for c in cols] for r in rows]
    widths = [max(len(c), *(len(x[i]) for x in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(cols, widths))]
    lines += ["  ".join(x.rjust(w) for x, w in zip(line, widths)) for line in cells]
    return "\n".join(lines)


def _fmt(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.4f}"
    return str(x)


FRONTIER_CACHE = "frontier"   # folder in a run's directory: one JSON per sweep's settings


def cached_frontier(run: LoadedRun, method: str = "mmr", points: int = 11, progress=None, cancel=None, *,
                    k: int = 10, n_candidates: int = 100, max_users: int | None = None,
                    window: int | None = None, space: str = "model", users: str = "all") -> list[dict]:
    """`frontier`, kept in the run's folder: a run and its dataset do not change, so the same sweep is the
    same rows; the app shows it at once the next time the run is opened (a sweep over 400 users takes seconds).
    Keyed by every setting and the dataset's size (an append makes a new sweep); written atomically, and
    not at all where the folder is read-only."""
    key = {"method": method, "points": int(points), "k": int(k), "n_candidates": int(n_candidates),
           "max_users": max_users, "window": window, "n_items": int(run.dataset.n_items),
           "n_interactions": int(run.dataset.info.n_interactions), "run": int(run.info.id), "space": space,
           "users": users, "widen": POOL_WIDEN, "version": 3}
    folder = None if run.directory is None else Path(run.directory) / FRONTIER_CACHE
    path = None if folder is None else folder / (hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16] + ".json")
    if path is not None and path.exists():
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            if doc.get("key") == key:
                return doc["rows"]
        except (OSError, ValueError, KeyError):
            pass
    rows = frontier(run, method, points, progress, cancel, k=k, n_candidates=n_candidates, max_users=max_users,
                    window=window, space=space, users=users)
    if path is not None:
        try:
            folder.mkdir(exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
            tmp.write_text(json.dumps({"key": key, "rows": rows}), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            pass
    return rows
