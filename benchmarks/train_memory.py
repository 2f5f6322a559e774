"""Peak memory of each data phase of `llmrec train --model lstm` (holdout, early stopping), stepped
through with the same engine calls run_training and LSTMRecommender.fit make, without TensorFlow:
load -> time split -> validation split -> validation examples -> validation set -> TRAIN examples ->
evaluation histories. Prints, per phase, the peak RSS reached during it (VmHWM, reset between phases
through /proc/self/clear_refs), the RSS held after it and the anonymous part of that (RssAnon: what
is not pages of the memory-mapped exports, which the kernel can drop).

    python benchmarks/train_memory.py --db D.db --dataset NAME --cache DIR [--steps N]
"""
from __future__ import annotations

import argparse
import gc
import time

from proc_memory import reset_peak as _reset_peak
from proc_memory import status as _status


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--cache", required=True, help="example export folder (a fresh one measures the export)")
    ap.add_argument("--max-len", type=int, default=20)
    ap.add_argument("--steps", type=int, default=3, help="batches gathered from the export (512 each)")
    args = ap.parse_args()

    from engine.data.dataset import load_dataset
    from engine.data.split import time_split, validation_split
    from engine.models.lstm.examples import training_arrays
    from engine.models.lstm.trainer import ValidationSet
    from engine.runs import training as training_mod
    from engine.store import open_store
    store = open_store(args.db)
    gc.collect()
    rss, _, anon = _status()
    print(f"{'phase':32s} {'peak MiB':>9s} {'held MiB':>9s} {'of it anon':>10s} {'CPU s':>7s}")
    print(f"{'start (imports, store)':32s} {rss:9d} {rss:9d} {anon:10d}")
    held = {}

    def phase(name, fn):
        gc.collect()
        _reset_peak()
        t = time.process_time()
        out = fn()
        cpu = time.process_time() - t
        gc.collect()
        rss, peak, anon = _status()
        print(f"{name:32s} {peak:9d} {rss:9d} {anon:10d} {cpu:7.1f}", flush=True)
        return out

    # what run_training keeps: the split (and, before this change, the whole dataset beside it)
    held["ds"] = phase("load", lambda: load_dataset(store, args.dataset))
    split = phase("time split", lambda: time_split(held["ds"]))
    train = split.train
    if hasattr(training_mod, "training_data"):     # run_training keeps only the split (engine.runs.training)
        del held["ds"]
        phase("whole dataset freed", lambda: None)
    val = phase("validation split", lambda: validation_split(train))
    val_arrays = phase("validation examples (export)", lambda: training_arrays(val.train, args.cache))
    vset = phase("validation set", lambda: ValidationSet(val.train, val.test_users, val.test_items, args.max_len))
    new_code = hasattr(training_mod, "training_data")
    if new_code:   # LSTMRecommender.fit now drops the validation split before the refit's export
        del val, vset, val_arrays
        phase("validation split freed", lambda: None)
    arrays = phase("TRAIN examples (export)", lambda: training_arrays(train, args.cache))

    def steps():
        if not new_code:
            for _ in zip(range(args.steps), val_arrays.batches(512, args.max_len, 42, 0)):
                pass
        for _ in zip(range(args.steps), arrays.batches(512, args.max_len, 42, 0)):
            pass
    phase(f"{args.steps} batches from the exports", steps)
    phase("evaluation histories", lambda: split.histories)
    print(f"TRAIN examples {len(arrays):,}; TRAIN rows {train.n_interactions:,}; evaluated users "
          f"{len(split.test_users):,}")


if __name__ == "__main__":
    main()
