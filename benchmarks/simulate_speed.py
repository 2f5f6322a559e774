"""How the feedback-loop simulator's cost grows with simulated users and rounds (issue 23).

Builds one world from a dataset in a database (--db and --dataset, e.g. a copy of a database holding
MovieTweetings: opening a database brings its schema to this version; without --db, the demo dataset,
generated in a temporary file): the oracle (EASE on all interactions), the
system (--model, fitted on TRAIN), the item space; then times `simulate` over a grid of users (rounds
fixed) and of rounds (users fixed), with the system kept fixed (update none) so a round's own work is what
is timed, and one full run (--full-users x --full-rounds, refit every 5 rounds). The reference measured in
the same run is one EASE fit on the same data. Prints seconds per round and policy, and per user-round.

    python benchmarks/simulate_speed.py [--db sqlite:////work/scratch/sim/sim.db --dataset tweetings]
        [--model itemknn] [--space model] [--users 1000,2500,5000,10000] [--rounds 5,10,20] [--full-users 10000]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from engine.data.dataset import load_dataset  # noqa: E402
from engine.data.split import time_split  # noqa: E402
from engine.models.registry import get_model_class  # noqa: E402
from engine.simulation.loop import LoopSettings, World, parse_policy, simulate  # noqa: E402
from engine.simulation.oracle import fit_oracle, true_utility  # noqa: E402
from engine.simulation.space import item_space  # noqa: E402
from engine.store import open_store  # noqa: E402

POLICIES = [parse_policy(p) for p in ("mmr:0", "mmr:0.3", "dpp:0.5")]


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default=None, help="database URL (default: the demo dataset in a temporary file)")
    ap.add_argument("--dataset", default="tweetings")
    ap.add_argument("--model", default="itemknn")
    ap.add_argument("--space", default="model")
    ap.add_argument("--users", default="1000,2500,5000,10000")
    ap.add_argument("--rounds", default="5,10,20")
    ap.add_argument("--grid-rounds", type=int, default=3, help="rounds of each users point")
    ap.add_argument("--grid-users", type=int, default=2000, help="users of each rounds point")
    ap.add_argument("--full-users", type=int, default=10000)
    ap.add_argument("--full-rounds", type=int, default=20)
    args = ap.parse_args()
    db = args.db
    tmp = None
    if db is None:
        from engine.data.demo import create_demo_dataset
        tmp = tempfile.TemporaryDirectory()
        store = open_store(str(Path(tmp.name) / "demo.db"))
        create_demo_dataset(store)
        args.dataset = "Demo movies"
        print("no --db: the demo dataset, generated")
    else:
        store = open_store(db)
    ds = load_dataset(store, args.dataset)
    train = time_split(ds).train
    print(f"dataset {args.dataset}: {ds.n_users} users, {ds.n_items} items, {ds.n_interactions} interactions; "
          f"system {args.model}, space {args.space}, policies {' '.join(p.label for p in POLICIES)}")
    oracle, t_oracle = timed(lambda: fit_oracle(ds, "ease"))
    print(f"reference: one EASE fit (the oracle, all interactions) {t_oracle:.1f} s")
    cls = get_model_class(args.model)

    def refit(data):
        m = cls()
        m.fit(data)
        return m
    system, t_system = timed(lambda: refit(train))
    print(f"system fit on TRAIN ({args.model}) {t_system:.1f} s (a refit costs about this, per policy)")
    users_grid = [int(x) for x in args.users.split(",")]
    rounds_grid = [int(x) for x in args.rounds.split(",")]
    eligible = np.flatnonzero(np.bincount(train.user_idx[train.positive_mask()], minlength=ds.n_users) > 0)
    n_max = min(max(users_grid + [args.full_users, args.grid_users]), len(eligible))
    users = np.sort(np.random.default_rng(0).choice(eligible, n_max, replace=False))
    utility, t_util = timed(lambda: true_utility(oracle, ds, users))
    print(f"true utilities of {n_max} users {t_util:.1f} s")
    space, t_space = timed(lambda: item_space(args.space, dataset=ds, model=system))
    print(f"item space ({space.name}, {'full matrix' if space.matrix is not None else 'vectors'}) {t_space:.1f} s")

    def run(n, rounds, update="none", every=5):
        n = min(n, n_max)
        world = World(train, users[:n], utility[:n], space, system, refit)
        _, t = timed(lambda: simulate(world, POLICIES, LoopSettings(rounds=rounds, update=update, update_every=every)))
        return n, t

    print(f"\nusers grid ({args.grid_rounds} rounds, update none): seconds per round and policy")
    print(f"{'users':>7} {'s/round/policy':>15} {'us/user-round':>14}")
    for n in users_grid:
        n, t = run(n, args.grid_rounds)
        per = t / args.grid_rounds / len(POLICIES)
        print(f"{n:>7} {per:>15.3f} {per / n * 1e6:>14.1f}")
    print(f"\nrounds grid ({args.grid_users} users, update none)")
    print(f"{'rounds':>7} {'seconds':>9} {'s/round/policy':>15}")
    for r in rounds_grid:
        n, t = run(args.grid_users, r)
        print(f"{r:>7} {t:>9.2f} {t / r / len(POLICIES):>15.3f}")
    n, t = run(args.full_users, args.full_rounds, update="refit", every=5)
    refits = (args.full_rounds - 1) // 5 * len(POLICIES)
    print(f"\nfull run: {n} users x {args.full_rounds} rounds x {len(POLICIES)} policies, refit every 5 rounds "
          f"({refits} refits): {t:.1f} s ({t / 60:.1f} min); EASE fit reference {t_oracle:.1f} s")
    store.close()
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
