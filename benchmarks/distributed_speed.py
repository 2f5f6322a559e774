"""Training throughput of the LSTM on 1 and 2 Ray workers (Ray Train TensorflowTrainer +
MultiWorkerMirroredStrategy), beside the ordinary in-process loop, in the same run.

Trains on the demo dataset (generated, in a temporary SQLite file) with a fixed number of epochs
(no early stopping) and prints each configuration's examples/s over all workers, from the last epoch
(the first includes tf.function tracing), and the ratio to 1 worker. On a 2-core machine no speed-up
is expected (the two workers share the cores and add an all-reduce per step); with more cores, machines
or GPUs per worker it scales. `--ray-address` runs the Ray configurations on an existing cluster.

    python benchmarks/distributed_speed.py [--epochs 2] [--items 3000 --users 2500] [--ray-address ADDR]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.data.dataset import load_dataset, write_dataset  # noqa: E402
from engine.data.demo import generate_demo  # noqa: E402
from engine.models.lstm.model import LSTMRecommender  # noqa: E402
from engine.runs.distributed import train_distributed  # noqa: E402
from engine.store import open_store  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--items", type=int, default=3000)
    ap.add_argument("--users", type=int, default=2500)
    ap.add_argument("--ray-address", default=None)
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(str(Path(tmp) / "bench.db"))
        write_dataset(store, "demo", **generate_demo(n_items=args.items, n_users=args.users))
        ds = load_dataset(store, "demo")
        params = dict(epochs=args.epochs, patience=0)
        print(f"demo data: {ds.n_users} users, {ds.n_items} items, {ds.n_interactions} interactions; "
              f"{args.epochs} epochs, batch 512 per worker")
        results = {}
        model = LSTMRecommender(**params)
        model.fit(ds)
        results["in-process (no Ray)"] = model.epochs[-1]["examples_per_s"]
        for n in (int(w) for w in args.workers.split(",")):
            model = LSTMRecommender(**params)
            info = train_distributed(model, ds, workers=n, address=args.ray_address)
            assert info["weights_identical"], info
            results[f"{n} Ray worker{'s' if n > 1 else ''}"] = model.epochs[-1]["examples_per_s"]
        one = results.get("1 Ray worker")
        print(f"{'configuration':24s} {'examples/s':>11s} {'vs 1 worker':>12s}")
        for label, eps in results.items():
            print(f"{label:24s} {eps:11,.0f} {eps / one if one else float('nan'):12.2f}")
        store.close()


if __name__ == "__main__":
    main()
