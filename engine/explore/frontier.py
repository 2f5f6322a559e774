"""The accuracy-diversity frontier: how NDCG@10 trades against ILD@10 as the re-ranker's slider
moves, measured on a run's evaluation split (docs/evaluation.md).

Each evaluated user's top-N candidates (N = 100) are scored once, with TRAIN items excluded; then
for every trade-off value the candidates are re-ranked into a list of k and the lists are measured
with engine.evaluation.protocol.list_metrics, the same code that measures the models themselves."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import time
from pathlib import Path

import numpy as np

from engine.errors import EngineError
from engine.evaluation.protocol import list_metrics, topk_rows
from engine.explore.rerank import METHODS, rerank
from engine.explore.similarity import genre_matrix, genre_mix, model_vectors, text_index
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
COMPACT_RATIO = 4   # compact only spaces more than this many times wider than the rows


def compact(v: np.ndarray) -> np.ndarray:
    """Rows with the same Gram matrix in at most N dimensions (N = rows): a wide item space (EASE's
    has one dimension per item, TF-IDF one per word) shrinks to N x N, so re-ranking many users stays
    cheap. A space at most COMPACT_RATIO times wider (a two-tower model's 128 dimensions for 100
    candidates) is kept as it is: re-ranking in it costs about the same, and the N x N
    eigendecomposition would dominate a pick (measured: 0.6 of 0.8 CPU-s at 1M items on a loaded
    box, its BLAS threads fighting for the cores). The decomposition runs on one BLAS thread:
    matrices this small lose more to thread start-up and contention than they gain."""
    v = np.asarray(v, dtype=np.float32)
    if v.shape[1] <= COMPACT_RATIO * v.shape[0]:
        return v
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1, user_api="blas"):
        w, q = np.linalg.eigh((v @ v.T).astype(np.float64))
    return (q * np.sqrt(np.clip(w, 0.0, None))).astype(np.float32)


def frontier(run: LoadedRun, method: str = "mmr", points: int = 11, progress=None, cancel=None, *, k: int = 10,
             n_candidates: int = 100, max_users: int | None = None, window: int | None = None) -> list[dict]:
    """One row per trade-off value in linspace(0, 1, points): accuracy and beyond-accuracy at k."""
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
    model, ds = run.model, run.dataset
    users = split.test_users
    cand, cand_scores = candidate_pool(model, split, users, n_candidates, cancel=cancel, progress=progress)
    gm = genre_matrix(ds)
    try:
        vectors = model_vectors(model)
    except EngineError:
        vectors = None                       # no item space: re-rank in the TF-IDF text space
    text = text_index(ds) if vectors is None else None
    targets = None
    if method == "calibration":
        hist = split.histories
        targets = [genre_mix(gm[np.unique(hist(int(u))[0])]) for u in users]
    pools = []                               # per user: the candidates' vectors, computed once
    for r in range(len(users)):
        pools.append(compact(vectors[cand[r]] if vectors is not None else text.dense_rows(cand[r])[0]))
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
            res = rerank(cand_scores[r], v, k, float(t), method, window=window, genres=gm[cand[r]],
                         target=None if targets is None else targets[r])
            lists[r] = cand[r][res.order]
            promoted += int(res.promoted.sum())
            if r % CHECK_EVERY == 0:
                check(cancel)
        m = list_metrics(lists, split, ks=(k,), model_vectors=vectors, genre_vectors=gm, item_bits=bits)
        row = {"tradeoff": round(float(t), 6)}
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
                    window: int | None = None) -> list[dict]:
    """`frontier`, kept in the run's folder: a run and its dataset do not change, so the same sweep is the
    same rows; the app shows it at once the next time the run is opened (a sweep over 400 users takes seconds).
    Keyed by every setting and the dataset's size (an append makes a new sweep); written atomically, and
    not at all where the folder is read-only."""
    key = {"method": method, "points": int(points), "k": int(k), "n_candidates": int(n_candidates),
           "max_users": max_users, "window": window, "n_items": int(run.dataset.n_items),
           "n_interactions": int(run.dataset.info.n_interactions), "run": int(run.info.id), "version": 1}
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
                    window=window)
    if path is not None:
        try:
            folder.mkdir(exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
            tmp.write_text(json.dumps({"key": key, "rows": rows}), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            pass
    return rows
