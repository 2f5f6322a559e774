"""Issue 24's first target, on stored runs: at category ILD@10 >= 0.90, how much of the undiversified list's
NDCG@10 does the slider keep, in the space `auto` chooses and in each space, per re-ranker?

The space is chosen on the "selection" half of the evaluated users (engine.explore.space_choice); every figure
below is measured on the other half ("report"), so the choice is never scored on the users it was made on.
The NDCG at ILD 0.90 is read off each frontier by linear interpolation between the two sweep points around
0.90 (the slider can sit between them); "-" when the curve never reaches 0.90.

    .venv/bin/python benchmarks/rerank_spaces.py --db sqlite:///x.db --artifacts DIR --run 2 --run 5 \
        [--methods mmr,ild,dpp] [--points 21] [--max-users 2000]
"""
from __future__ import annotations

import argparse

import numpy as np

from engine.explore.frontier import frontier
from engine.explore.space_choice import attach_encoded, choose_space
from engine.runs.loaded import load_run
from engine.store import open_store

TARGET_ILD = 0.90


def ndcg_at_ild(rows: list[dict], target: float = TARGET_ILD) -> float | None:
    """NDCG@10 where the curve first reaches category ILD@10 = target (interpolated), None if it never does."""
    pts = [(r["ild_genre@10"], r["ndcg@10"]) for r in sorted(rows, key=lambda r: r["tradeoff"])]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if x0 < target <= x1:
            return float(y0 + (y1 - y0) * (target - x0) / (x1 - x0))
    reach = [y for x, y in pts if x >= target]
    return max(reach) if reach else None


def best_at_ild(rows: list[dict], target: float = TARGET_ILD) -> float | None:
    """The best NDCG@10 among points at ILD >= target, or the interpolated crossing if better."""
    cands = [r["ndcg@10"] for r in rows if r["ild_genre@10"] >= target]
    cross = ndcg_at_ild(rows, target)
    cands += [cross] if cross is not None else []
    return max(cands) if cands else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--artifacts")
    ap.add_argument("--run", type=int, action="append", required=True)
    ap.add_argument("--methods", default="mmr,ild,dpp")
    ap.add_argument("--points", type=int, default=21)
    ap.add_argument("--max-users", type=int, default=2000)
    args = ap.parse_args()
    store = open_store(args.db, artifacts=args.artifacts)
    for run_id in args.run:
        run = load_run(store, run_id)
        attach_encoded(store, run.dataset)
        choice = choose_space(run, "mmr", points=11, max_users=args.max_users)
        print(f"\nrun {run_id} ({run.info.model}) on {run.info.dataset_name}: auto chose {choice.space} on "
              f"{choice.n_users} selection users (areas: "
              + ", ".join(f"{s} {a:.4f}" for s, a in choice.areas.items()) + ")")
        print(f"{'method':>8} {'space':>11} {'ndcg t=0':>9} {'ndcg@ILD.9':>11} {'kept':>6} {'max ILD':>8}  users")
        for method in args.methods.split(","):
            for space in choice.areas:
                rows = frontier(run, method, args.points, max_users=args.max_users, space=space, users="report")
                base = rows[0]["ndcg@10"]
                at = best_at_ild(rows)
                kept = f"{at / base:.3f}" if at is not None and base else "-"
                flag = " <- auto" if space == choice.space else ""
                print(f"{method:>8} {space:>11} {base:9.4f} {at if at is not None else float('nan'):11.4f} "
                      f"{kept:>6} {max(r['ild_genre@10'] for r in rows):8.3f}  {rows[0]['n_users']}{flag}")
    store.close()


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
