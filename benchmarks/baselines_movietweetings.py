"""Baselines on MovieTweetings-100k under docs/evaluation.md, to compare with ../shared/data/PEERS.md.

Parses the `::` files directly into an in-memory Dataset (nothing written to a database), prints
the split statistics (PEERS.md says they must match exactly), optionally tunes EASE lambda and
ItemKNN k on the validation split, then prints test metrics and fit/score seconds.

    .venv/bin/python benchmarks/baselines_movietweetings.py [--tune] [--data DIR]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from engine.data.dataset import Dataset
from engine.data.split import time_split, validation_split
from engine.evaluation.protocol import evaluate
from engine.models.registry import get_model_class
from engine.types import DatasetInfo

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "movietweetings-100k"


def load_movietweetings(root: Path) -> Dataset:
    movies = [line.rstrip("\n").split("::") for line in (root / "movies.dat").read_text(encoding="utf-8").splitlines() if line]
    item_ids = [m[0] for m in movies]
    col = {m: i for i, m in enumerate(item_ids)}
    rows = [line.split("::") for line in (root / "ratings.dat").read_text(encoding="utf-8").splitlines() if line]
    users = sorted({r[0] for r in rows}, key=int)
    ucol = {u: i for i, u in enumerate(users)}
    info = DatasetInfo(0, "movietweetings-100k", len(users), len(item_ids), len(rows), 0.0, 10.0, 8.0)
    return Dataset(
        info, np.array(users, dtype=object), np.array(item_ids, dtype=object), [m[1] for m in movies],
        [tuple(g for g in m[2].split("|") if g) if len(m) > 2 else () for m in movies], [""] * len(movies),
        np.array([ucol[r[0]] for r in rows], dtype=np.int32), np.array([col[r[1]] for r in rows], dtype=np.int32),
        np.array([float(r[2]) for r in rows], dtype=np.float32), np.array([int(r[3]) for r in rows], dtype=np.int64),
        8.0)


def fit_eval(name: str, params: dict, train_split, ks=(10, 20)):
    model = get_model_class(name)(**params)
    t = time.perf_counter()
    model.fit(train_split.train)
    fit_s = time.perf_counter() - t
    t = time.perf_counter()
    m = evaluate(model, train_split, ks)
    return m, fit_s, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--tune", action="store_true", help="grid-search EASE lambda and ItemKNN k on validation")
    ap.add_argument("--ease-grid", default="25,50,100,250,500,1000,2500", help="EASE lambdas for --tune")
    ap.add_argument("--knn-grid", default="10,25,50,100,200,400", help="ItemKNN k values for --tune")
    args = ap.parse_args()
    ds = load_movietweetings(args.data)
    t = time.perf_counter()
    split = time_split(ds)
    print(f"split ({time.perf_counter() - t:.2f}s):", split.stats)
    val = validation_split(split.train)
    print("validation:", val.stats)
    chosen = {"popularity": {}, "itemknn": {"k": 400}, "ease": {"l2": 250.0}}
    if args.tune:
        grids = {"ease": [{"l2": float(v)} for v in args.ease_grid.split(",") if v],
                 "itemknn": [{"k": int(v)} for v in args.knn_grid.split(",") if v]}
        for name, grid in grids.items():
            if not grid:
                continue
            best = None
            for p in grid:
                m, fs, _ = fit_eval(name, p, val, ks=(10,))
                print(f"  val {name} {p}: ndcg@10 {m['ndcg@10']:.4f} (fit {fs:.1f}s)")
                if best is None or m["ndcg@10"] > best[0]:
                    best = (m["ndcg@10"], p)
            chosen[name] = best[1]
            print(f"chosen {name}: {best[1]} (val ndcg@10 {best[0]:.4f})")
    keys = ["recall@10", "ndcg@10", "ndcg_se@10", "hit_rate@10", "mrr@10", "recall@20", "ndcg@20", "hit_rate@20",
            "mrr@20", "ild_genre@10", "coverage@10", "novelty@10", "gini@10", "ild_genre@20", "coverage@20",
            "novelty@20", "gini@20", "ild_model@10"]
    print("model | " + " | ".join(keys) + " | fit s | score s")
    pop_ndcg = None
    for name, params in chosen.items():
        m, fs, ss = fit_eval(name, params, split)
        pop_ndcg = m["ndcg@10"] if name == "popularity" else pop_ndcg
        cells = ["-" if m.get(k) is None else f"{m[k]:.4f}" for k in keys]
        print(f"{name} {params} | " + " | ".join(cells) + f" | {fs:.1f} | {ss:.1f}   n_users={m['n_users']}")
        print(f"   ndcg@10 / MostPopular's (same run): {m['ndcg@10'] / pop_ndcg:.3f}")
        print("   by activity:", {g: (v["n_users"], None if v["ndcg@10"] is None else round(v["ndcg@10"], 4))
                                  for g, v in m["by_activity"].items()})


if __name__ == "__main__":
    main()
