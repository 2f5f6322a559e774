"""`llmrec train` end to end with its memory per phase: the real command (engine.cli.main), with each data
phase wrapped to print the peak RSS reached during it (VmHWM, reset through /proc/self/clear_refs at
its start) and the RSS after it. For measurement only, each training epoch is cut after --batches
batches (a full epoch at 25M interactions is hours on a CPU); everything else runs as it is.

    python benchmarks/train_e2e_memory.py --batches 20 -- --db D.db train --dataset 1 --model lstm \\
        --no-tune --epochs 1 --text-encoder lstm
"""
from __future__ import annotations

import argparse
import functools
import sys
import time

from proc_memory import reset_peak as _reset_peak
from proc_memory import status as _status

T0 = time.perf_counter()


def _line(name: str) -> None:
    rss, peak, anon = _status()
    print(f"[mem] {time.perf_counter() - T0:7.1f}s  {name:34s} peak {peak:6d} MiB  held {rss:6d} MiB "
          f"(anon {anon:6d})", flush=True)


def _wrap(owner, attr: str, name: str) -> None:
    real = getattr(owner, attr)

    @functools.wraps(real)
    def timed(*a, **k):
        _line(f"(before {name})")
        _reset_peak()
        out = real(*a, **k)
        _line(name)
        _reset_peak()
        return out
    setattr(owner, attr, timed)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, default=20, help="batches per epoch (measurement only)")
    ap.add_argument("cli", nargs=argparse.REMAINDER, help="-- then the llmrec arguments")
    args = ap.parse_args()
    cli_args = args.cli[1:] if args.cli[:1] == ["--"] else args.cli

    import engine.data.dataset as dataset_mod
    import engine.data.split as split_mod
    import engine.evaluation.protocol as evaluation_mod
    import engine.models.lstm.examples as examples_mod
    import engine.models.lstm.model as lstm_mod
    import engine.models.lstm.trainer as trainer_mod
    import engine.runs.saving as runs_mod

    real_batches = examples_mod.TrainingArrays.batches

    def capped(self, batch_size, max_len, seed, epoch):
        for k, b in enumerate(real_batches(self, batch_size, max_len, seed, epoch)):
            if k >= args.batches:
                return
            yield b
    examples_mod.TrainingArrays.batches = capped

    for owner, attr, name in [(dataset_mod, "load_dataset", "load"), (split_mod, "time_split", "time split"),
                              (lstm_mod.LSTMRecommender, "_encoder_vectors", "item text vectors (encoder)"),
                              (split_mod, "validation_split", "validation split"),
                              (examples_mod, "training_arrays", "examples (export or open)"),
                              (trainer_mod, "train_towers", "train (capped batches)"),
                              (evaluation_mod, "evaluate", "evaluation (TEST)"),
                              (runs_mod, "save_and_register", "save + register")]:
        _wrap(owner, attr, name)
    real_vs = trainer_mod.ValidationSet.__init__

    def vs_init(self, *a, **k):
        _line("(before validation set)")
        _reset_peak()
        real_vs(self, *a, **k)
        _line("validation set")
        _reset_peak()
    trainer_mod.ValidationSet.__init__ = vs_init

    from engine.cli.main import main as cli_main
    _line("start")
    _reset_peak()
    try:
        rc = cli_main(cli_args)
    finally:
        _line("end")
    sys.exit(rc or 0)


if __name__ == "__main__":
    main()
