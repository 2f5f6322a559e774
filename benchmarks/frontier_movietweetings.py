"""The accuracy-diversity frontier on MovieTweetings-100k (docs/evaluation.md split, 2,711 users), for
MMR and DPP, with EASE (the strongest baseline in ../shared/data/PEERS.md) or any registry model
that fits without TensorFlow. Prints one table per method; nothing is written to a database.

    .venv/bin/python benchmarks/frontier_movietweetings.py [--model ease] [--points 11] [--csv PREFIX]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baselines_movietweetings import DEFAULT_DIR, load_movietweetings  # noqa: E402

from engine.data.split import time_split  # noqa: E402
from engine.explore.frontier import frontier, to_csv, to_table  # noqa: E402
from engine.models.registry import get_model_class  # noqa: E402
from engine.runs.loaded import LoadedRun  # noqa: E402
from engine.types import RunInfo  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--model", default="ease")
    ap.add_argument("--points", type=int, default=11)
    ap.add_argument("--methods", default="mmr,dpp")
    ap.add_argument("--csv", help="write PREFIX-<method>.csv too")
    args = ap.parse_args()
    ds = load_movietweetings(args.data)
    split = time_split(ds)
    model = get_model_class(args.model)()
    t = time.perf_counter()
    model.fit(split.train)
    print(f"{args.model} fitted in {time.perf_counter() - t:.1f}s; {len(split.test_users)} evaluated users")
    info = RunInfo(0, 0, ds.info.name, args.model, None, True, "cpu", "CPU", None, {}, {}, None, None)
    run = LoadedRun(info=info, dataset=ds, model=model, split=split)
    for method in args.methods.split(","):
        t = time.perf_counter()
        rows = frontier(run, method, args.points)
        print(f"\n{method.upper()} on {args.model}, top-100 candidates re-ranked to 10 "
              f"({time.perf_counter() - t:.1f}s)")
        print(to_table(rows))
        if args.csv:
            Path(f"{args.csv}-{method}.csv").write_text(to_csv(rows))


if __name__ == "__main__":
    main()
