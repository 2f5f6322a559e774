"""Cold start: how well items nobody has rated yet are ranked from their text alone.

On each real dataset's time-aware holdout (docs/evaluation.md), a "cold" item has no TRAIN interaction.
For every evaluated user with at least one TEST positive on a cold item, the cold items are ranked
by the similarity of their text to the user's TRAIN positives (the mean of their vectors), and
NDCG@10 is computed with those cold TEST positives as the relevant set. Spaces compared, in one run:
the pretrained encoder (all-MiniLM-L6-v2, "semantic"), the existing TF-IDF text space (what llmrec
had without the encoder), and a random order (the mean of 20 shuffles). A collaborative model gives
cold items no signal at all (EASE's columns for them are zero), so that is not a row here.

    nice -n 10 .venv/bin/python benchmarks/cold_start.py [--datasets movietweetings,x-wines]
"""
from __future__ import annotations

import argparse
import ast
import csv
import io
import os
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from engine.data.dataset import Dataset  # noqa: E402
from engine.data.split import time_split  # noqa: E402
from engine.types import DatasetInfo  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CACHE = Path.home() / ".cache" / "llmrec-bench"


def load_xwines(root: Path = DATA / "x-wines-slim") -> Dataset:
    """X-Wines Slim: wine text = name, type, grapes, foods it goes with, body, acidity, country, region."""
    zf = zipfile.ZipFile(next(root.glob("*.zip")))
    wines = list(csv.DictReader(io.TextIOWrapper(zf.open("XWines_Slim_1K_wines.csv"), encoding="utf-8")))
    ratings = list(csv.DictReader(io.TextIOWrapper(zf.open("XWines_Slim_150K_ratings.csv"), encoding="utf-8")))
    ids = [w["WineID"] for w in wines]
    col = {w: i for i, w in enumerate(ids)}
    users = sorted({r["UserID"] for r in ratings}, key=int)
    ucol = {u: i for i, u in enumerate(users)}
    desc = [f"{', '.join(ast.literal_eval(w['Grapes']))}; with {', '.join(ast.literal_eval(w['Harmonize']))}; "
            f"{w['Body']}, {w['Acidity']} acidity; {w['RegionName']}, {w['Country']}" for w in wines]
    # one rating per (user, wine): the latest vintage rated wins
    last: dict[tuple[int, int], tuple[int, float]] = {}
    for r in ratings:
        t = int(datetime.fromisoformat(r["Date"]).timestamp())
        key = (ucol[r["UserID"]], col[r["WineID"]])
        if key not in last or t >= last[key][0]:
            last[key] = (t, float(r["Rating"]))
    keys = list(last)
    info = DatasetInfo(0, "x-wines-slim", len(users), len(ids), len(keys), 1.0, 5.0, 4.0)
    return Dataset(info, np.array(users, dtype=object), np.array(ids, dtype=object), [w["WineName"] for w in wines],
                   [(w["Type"],) for w in wines], desc,
                   np.array([k[0] for k in keys], np.int32), np.array([k[1] for k in keys], np.int32),
                   np.array([last[k][1] for k in keys], np.float32), np.array([last[k][0] for k in keys], np.int64), 4.0)


def load(name: str) -> Dataset:
    if name == "movietweetings":
        from baselines_movietweetings import DEFAULT_DIR, load_movietweetings
        return load_movietweetings(DEFAULT_DIR)
    return load_xwines()


def semantic(ds: Dataset, name: str) -> np.ndarray:
    path = CACHE / f"{name}-minilm.npy"
    if path.exists():
        v = np.load(path)
        if len(v) == ds.n_items:
            return v
    from engine.encoder import load_encoder
    v = load_encoder("keras").encode([ds.item_text(i) for i in range(ds.n_items)], 64)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, v)
    return v


def tfidf(ds: Dataset) -> np.ndarray:
    from engine.explore.similarity import text_index
    idx = text_index(ds)
    dense, cols = idx.dense_rows(np.arange(ds.n_items))
    return dense


def ndcg10(order: np.ndarray, relevant: set) -> float:
    disc = 1.0 / np.log2(np.arange(2, 12))
    hits = np.array([int(i) in relevant for i in order[:10]], dtype=float)
    return float((hits * disc[:len(hits)]).sum() / disc[:min(10, len(relevant))].sum())


def evaluate(ds: Dataset, name: str, seed: int = 0) -> None:
    split = time_split(ds)
    train_counts = np.bincount(split.train.item_idx, minlength=ds.n_items)
    cold = np.flatnonzero(train_counts == 0)
    cold_set = set(cold.tolist())
    pos = split.train.positive_mask()
    spaces = {"semantic (all-MiniLM-L6-v2)": semantic(ds, name), "TF-IDF text (before)": tfidf(ds)}
    for key, v in spaces.items():
        n = np.linalg.norm(v, axis=1, keepdims=True)
        spaces[key] = np.divide(v, n, out=np.zeros_like(v), where=n > 0)
    scores = {k: [] for k in spaces}
    scores["random order"] = []
    rng = np.random.default_rng(seed)
    users = 0
    for u, items in zip(split.test_users, split.test_items):
        rel = set(int(i) for i in items) & cold_set
        if not rel:
            continue
        users += 1
        mine = (split.train.user_idx == u)
        hist = split.train.item_idx[mine & pos]
        hist = hist if len(hist) else split.train.item_idx[mine]
        for key, v in spaces.items():
            profile = v[hist].mean(axis=0)
            s = v[cold] @ profile
            scores[key].append(ndcg10(cold[np.lexsort((cold, -s))], rel))
        scores["random order"].append(np.mean([ndcg10(rng.permutation(cold), rel) for _ in range(20)]))
    n_cold_pos = sum(len(set(map(int, t)) & cold_set) for t in split.test_items)
    print(f"\n{name}: {len(cold)} of {ds.n_items} items have no TRAIN interaction; {users} evaluated users "
          f"have {n_cold_pos} TEST positives on them")
    if not users:
        print("  (nothing to measure)")
        return
    ref = np.mean(scores["random order"])
    for key, vals in scores.items():
        vals = np.array(vals)
        print(f"  {key:30} NDCG@10 {vals.mean():.4f} ± {1.96 * vals.std(ddof=1) / np.sqrt(len(vals)):.4f}"
              f"   ({vals.mean() / ref:.1f}x random)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default="movietweetings,x-wines")
    for name in ap.parse_args().datasets.split(","):
        evaluate(load(name), name)


if __name__ == "__main__":
    main()
