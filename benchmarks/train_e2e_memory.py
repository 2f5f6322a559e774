"""`llmrec train` end to end with its memory per phase: the real command (engine.cli.main), with each
phase wrapped to print the peak RSS reached during it (VmHWM, reset through /proc/self/clear_refs) and the
RSS after it. Phases nest (the validation pass runs inside training): an outer phase's peak includes its
inner ones'. For measurement only, each training epoch can be cut after --batches batches (a full epoch at
25M interactions is hours on a CPU; 0 runs whole epochs, the real command); everything else runs as it is.

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


_open: list[list[int]] = []     # the running peak of each phase under way, outermost first


def _fold() -> int:
    """The peak since the last reset, folded into every open phase's; then the peak starts again."""
    peak = _status()[1]
    for p in _open:
        p[0] = max(p[0], peak)
    _reset_peak()
    return peak


def _line(name: str, peak: int | None = None) -> None:
    rss, now_peak, anon = _status()
    peak = now_peak if peak is None else peak
    print(f"[mem] {time.perf_counter() - T0:7.1f}s  {name:38s} peak {peak:6d} MiB  held {rss:6d} MiB "
          f"(anon {anon:6d})", flush=True)


def _phase(name: str, fn, *a, **k):
    _line(f"(before {name})")
    _fold()
    _open.append([0])
    try:
        return fn(*a, **k)
    finally:
        _fold()
        _line(name, _open.pop()[0])


def _wrap(owner, attr: str, name: str) -> None:
    real = getattr(owner, attr)

    @functools.wraps(real)
    def timed(*a, **k):
        return _phase(name, real, *a, **k)
    setattr(owner, attr, timed)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, default=20,
                    help="batches per epoch (measurement only; 0: whole epochs, the real command)")
    ap.add_argument("cli", nargs=argparse.REMAINDER, help="-- then the llmrec arguments")
    args = ap.parse_args()
    cli_args = args.cli[1:] if args.cli[:1] == ["--"] else args.cli

    import engine.models.lstm.examples as examples_mod
    import engine.models.lstm.model as lstm_mod
    import engine.models.lstm.trainer as trainer_mod
    import engine.runs.training as training_mod

    real_batches = examples_mod.TrainingArrays.batches

    def capped(self, batch_size, max_len, seed, epoch):
        for k, b in enumerate(real_batches(self, batch_size, max_len, seed, epoch)):
            if args.batches and k >= args.batches:
                return
            yield b
    examples_mod.TrainingArrays.batches = capped

    # each function wrapped where it is called from (a module that imported the name holds its own reference)
    for owner, attr, name in [(training_mod, "load_dataset", "load"), (training_mod, "time_split", "time split"),
                              (lstm_mod.LSTMRecommender, "_encoder_vectors", "item text vectors (encoder)"),
                              (lstm_mod, "validation_split", "validation split"),
                              (lstm_mod, "training_arrays", "examples (export or open)"),
                              (lstm_mod, "train_towers", "train" if not args.batches else "train (capped batches)"),
                              (trainer_mod, "item_matrix_of", "item matrix"),
                              (trainer_mod.ValidationSet, "sums", "validation pass (scores)"),
                              (training_mod, "evaluate", "evaluation (TEST)"),
                              (training_mod, "save_and_register", "save + register")]:
        _wrap(owner, attr, name)
    _wrap(trainer_mod.ValidationSet, "__init__", "validation set")

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
