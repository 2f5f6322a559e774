"""The LSTM two-tower model (both objectives) beside MostPopular, ItemKNN and EASE on MovieTweetings-100k,
under docs/evaluation.md (time-aware holdout, full ranking), in one run; compare with ../shared/data/PEERS.md.
Also prints each model's paired per-user NDCG@10 difference to EASE (mean ± 1.96·SE) and fit seconds.

    .venv/bin/python benchmarks/lstm_movietweetings.py [--data DIR] [--objectives softmax,paper]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from baselines_movietweetings import DEFAULT_DIR, load_movietweetings  # noqa: E402

from engine.data.split import time_split  # noqa: E402
from engine.evaluation.protocol import list_metrics, rank_users  # noqa: E402
from engine.models.registry import get_model_class  # noqa: E402

KEYS = ["recall@10", "ndcg@10", "hit_rate@10", "mrr@10", "recall@20", "ndcg@20", "ild_genre@10", "ild_model@10",
        "coverage@10", "novelty@10", "gini@10"]


def per_user_ndcg10(lists: np.ndarray, split) -> np.ndarray:
    disc = 1.0 / np.log2(np.arange(2, 12))
    out = np.zeros(len(split.test_users))
    for r, t in enumerate(split.test_items):
        hits = np.isin(lists[r, :10], t)
        out[r] = (hits * disc).sum() / disc[:min(10, len(t))].sum()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--objectives", default="softmax,paper")
    args = ap.parse_args()
    split = time_split(load_movietweetings(args.data))
    print("split:", split.stats)
    runs = [("popularity", {}), ("itemknn", {"k": 400}), ("ease", {"l2": 250.0})]
    runs += [("lstm", {"objective": o}) for o in args.objectives.split(",") if o]
    rows, per_user = [], {}
    for name, params in runs:
        model = get_model_class(name)(**params)
        t = time.perf_counter()
        progress = (lambda e: print(f"    epoch {e.epoch}: loss {e.loss:.4f} val ndcg@10 {e.val_ndcg10}", flush=True)
                    if getattr(e, "batch", 1) is None else None)
        model.fit(split.train, progress=progress)
        fit_s = time.perf_counter() - t
        lists = rank_users(model, split, 20)
        m = list_metrics(lists, split, (10, 20), model_vectors=model.item_vectors())
        label = f"{name} {params}" + (f" best_epoch={model.best_epoch}" if name == "lstm" else "")
        per_user[label] = per_user_ndcg10(lists, split)
        rows.append((label, m, fit_s))
        print(f"{label}: ndcg@10 {m['ndcg@10']:.4f} recall@10 {m['recall@10']:.4f} fit {fit_s:.0f}s", flush=True)
    print("\nmodel | " + " | ".join(KEYS) + " | fit s")
    for label, m, fit_s in rows:
        print(f"{label} | " + " | ".join("-" if m.get(k) is None else f"{m[k]:.4f}" for k in KEYS) + f" | {fit_s:.0f}")
    ease = next(v for k, v in per_user.items() if k.startswith("ease"))
    print("\npaired NDCG@10 difference to EASE (mean ± 1.96·SE), same users:")
    for label, v in per_user.items():
        d = v - ease
        print(f"  {label}: {d.mean():+.4f} ± {1.96 * d.std(ddof=1) / np.sqrt(len(d)):.4f}")


if __name__ == "__main__":
    main()
