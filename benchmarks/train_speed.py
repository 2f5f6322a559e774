"""Training speed of the LSTM two-tower model on MovieTweetings-100k, CPU, default configuration,
beside a naive Keras model of the source article's code shape measured in the same run.

Ours: the item tower runs once per batch over the batch's distinct items and histories gather from
those vectors; tf.data input; one tf.function step. Naive: one row per (history, item, label)
(positives plus the same number of uniform negatives as the `paper` objective), the item tower run
inside TimeDistributed for every history item and the target of every row, trained with model.fit.
Both use the same tower sizes. Figures: examples/s (an example = one TRAIN positive with its history;
for the naive model a row, i.e. a positive or a negative) and seconds per epoch over all TRAIN positives.

The "default command" row (issue 24): `llmrec train --model lstm` with its defaults (tuning included)
end to end on a fresh copy of a real dataset (MovieTweetings or X-Wines, imported once into a benchmark
database, copied for each run so that the catalogue encoding and the example export are paid as on a
first training), with a per-phase table: wall seconds, CPU seconds (resource.getrusage: all threads) and
each phase's share, phases timed by wrapping the engine functions that do them (nothing in the engine
changes). On a shared machine wall time is noisy; the CPU seconds and the shares are what compare.

    .venv/bin/python benchmarks/train_speed.py [--data DIR] [--naive-batches 30]
        [--default-command movietweetings,xwines] [--lstm '{"user_units": 128}'] [--skip-epoch-rows]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))   # this checkout's engine, not an installed one
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from baselines_movietweetings import DEFAULT_DIR, load_movietweetings  # noqa: E402

from engine.data.split import time_split  # noqa: E402
from engine.models.lstm.model import LSTMConfig, LSTMRecommender  # noqa: E402
from engine.models.lstm.sequences import build_examples  # noqa: E402


def ours(train, cfg: LSTMConfig) -> tuple[float, float, int]:
    """(examples/s, s/epoch, positives) for one epoch of the default configuration (no validation)."""
    model = LSTMRecommender(**{**cfg.__dict__, "epochs": 1, "patience": 0, "refit": False})
    t = time.perf_counter()
    model.fit(train)
    wall = time.perf_counter() - t
    e = model.epochs[0]
    print(f"  ours: {e['seconds']:.1f} s/epoch (training loop), {wall:.1f} s wall incl. tokenising and tracing")
    users = np.unique(train.user_idx)[:200]
    hist = [train.item_idx[train.user_idx == u] for u in users]
    times = []
    for h in hist:
        t = time.perf_counter()
        model.score(h)
        times.append(time.perf_counter() - t)
    print(f"  numpy scoring of one user over all {train.n_items} items (a 'like' re-score): "
          f"median {1000 * np.median(times):.2f} ms")
    return e["examples_per_s"], e["seconds"], int(e["examples_per_s"] * e["seconds"] + 0.5)


def naive(train, cfg: LSTMConfig, batches: int) -> tuple[float, int]:
    """(rows/s, rows per epoch) of the article-shaped model over `batches` batches after a warm-up."""
    import keras
    from keras import layers

    from engine.models.lstm.text import tokenize_catalogue
    tokens, _ = tokenize_catalogue([train.item_text(i) for i in range(train.n_items)], cfg.max_tokens, cfg.text_len)
    hist, hist_r, target = build_examples(train, cfg.max_len)
    rng = np.random.default_rng(cfg.seed)
    neg = rng.integers(1, train.n_items + 1, (len(target), cfg.negatives))
    rows = np.concatenate([np.arange(len(target))] + [np.arange(len(target))] * cfg.negatives)
    items = np.concatenate([target] + [neg[:, k] for k in range(cfg.negatives)]).astype(np.int32)
    labels = np.concatenate([np.ones(len(target))] + [np.zeros(len(target))] * cfg.negatives).astype(np.float32)
    n_rows = len(rows)
    T, L, d = tokens.shape[1], cfg.max_len, cfg.embedding_dim

    tok = keras.Input((T,), dtype="int32")
    x = layers.Embedding(cfg.max_tokens + 2, cfg.text_dim, mask_zero=True)(tok)
    x = layers.LSTM(cfg.text_units)(x)
    x = layers.UnitNormalization()(layers.Dense(d, activation="tanh")(x))
    item_tower = keras.Model(tok, x)
    h_tok = keras.Input((L, T), dtype="int32")
    h_r = keras.Input((L, 1))
    t_tok = keras.Input((T,), dtype="int32")
    hv = layers.TimeDistributed(item_tower)(h_tok)
    u = layers.LSTM(cfg.user_units)(layers.Concatenate()([hv, h_r]))
    u = layers.UnitNormalization()(layers.Dense(d)(u))
    cos = layers.Dot(axes=1, normalize=True)([u, item_tower(t_tok)])
    out = layers.Dense(1, activation="sigmoid")(cos)
    model = keras.Model([h_tok, h_r, t_tok], out)
    model.compile(keras.optimizers.Adam(cfg.learning_rate), "binary_crossentropy")
    bs = cfg.batch_size
    pick = rng.permutation(n_rows)[: bs * (batches + 3)]
    X = [tokens[hist[rows[pick]]], hist_r[rows[pick]][..., None], tokens[items[pick]]]
    y = labels[pick]
    warm = bs * 3
    model.fit([a[:warm] for a in X], y[:warm], batch_size=bs, epochs=1, verbose=0)
    t = time.perf_counter()
    model.fit([a[warm:] for a in X], y[warm:], batch_size=bs, epochs=1, verbose=0)
    return bs * batches / (time.perf_counter() - t), n_rows


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Phases:
    """Wall and CPU seconds per phase, by wrapping the functions that do each phase."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float]] = []
        self.depth = 0

    def time(self, label: str, fn, *args, **kwargs):
        w, c = time.perf_counter(), cpu_seconds()
        self.depth += 1
        try:
            return fn(*args, **kwargs)
        finally:
            self.depth -= 1
            self.rows.append((label() if callable(label) else label, time.perf_counter() - w, cpu_seconds() - c))

    def wrap(self, owner, name: str, label) -> None:
        fn = getattr(owner, name)

        def timed(*args, **kwargs):
            return self.time(label(args, kwargs) if callable(label) else label, fn, *args, **kwargs)
        setattr(owner, name, timed)


def default_command(key: str, db: Path, overrides: dict) -> None:
    """`llmrec train --model lstm --dataset <key>` defaults end to end on a fresh copy of the benchmark
    database, with the per-phase table."""
    from quality_data import NAMES, open_benchmark_store

    from engine.models.lstm import model as lstm_model
    from engine.models.lstm import tuning
    from engine.runs import training
    from engine.store import open_store
    from engine.tfquiet import quiet_import
    from engine.types import TrialStats

    open_benchmark_store(db, [key]).close()       # imported once, then copied: every run starts fresh
    work = Path(tempfile.mkdtemp(prefix="train-speed-"))
    for suffix in ("", "-wal"):
        if Path(f"{db}{suffix}").exists():
            shutil.copy(f"{db}{suffix}", work / f"copy.db{suffix}")
    ph = Phases()
    trials: list[TrialStats] = []
    counter = {"trial": 0}

    def trial_label(args, kwargs):
        counter["trial"] += 1
        return f"tuning trial {counter['trial']}"

    ph.wrap(training, "training_data", "load data + split")
    ph.wrap(lstm_model.LSTMRecommender, "_encoder_vectors", "encode item texts")
    ph.wrap(lstm_model, "training_arrays", "export examples")
    ph.wrap(tuning, "ValidationSet", "validation sets")
    ph.wrap(tuning, "train_towers", trial_label)
    ph.wrap(lstm_model, "train_towers", lambda a, k: "refit" if k.get("validation") is None else "train (no tuning)")
    ph.wrap(training, "evaluate", "evaluate on TEST")
    ph.wrap(training, "save_and_register", "save + register")
    w0, c0 = time.perf_counter(), cpu_seconds()
    ph.time("import TensorFlow", quiet_import)
    store = open_store(str(work / "copy.db"), work / "art")
    config = training.TrainConfig(dataset=NAMES[key], model="lstm", device="cpu", extra=overrides)

    def progress(u) -> None:
        if isinstance(u, TrialStats):
            trials.append(u)
            print(f"  trial {u.trial}: {u.state}, val {u.val_ndcg10}, {u.best_epoch} epochs, {u.seconds:.0f} s",
                  file=sys.stderr, flush=True)
    summary = ph.time("run_training (all)", training.run_training, config, store, progress)
    wall, cpu = time.perf_counter() - w0, cpu_seconds() - c0
    by_trial = {f"tuning trial {t.trial}": t for t in trials}
    print(f"\ndefault command: llmrec train --model lstm --dataset {NAMES[key]} (defaults"
          f"{', ' + json.dumps(overrides) if overrides else ''}), fresh copy, CPU; "
          f"test NDCG@10 {summary.metrics.get('ndcg@10', float('nan')):.4f}, "
          f"load average {os.getloadavg()[0]:.1f} at the end")
    print("| phase | wall s | CPU s | share of wall | note |\n| --- | --- | --- | --- | --- |")
    outer = {"run_training (all)"}
    for label, w, c in ph.rows:
        if label in outer:
            continue
        t = by_trial.get(label)
        note = "" if t is None else (f"{t.state}, {t.best_epoch} epochs kept, val {t.val_ndcg10:.4f}, "
                                     + " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                                                for k, v in t.params.items()))
        print(f"| {label} | {w:.1f} | {c:.1f} | {w / wall:.0%} | {note} |")
    inner = sum(w for label, w, _ in ph.rows if label not in outer)
    inner_c = sum(c for label, _, c in ph.rows if label not in outer)
    print(f"| other (tracing, splits, bookkeeping) | {wall - inner:.1f} | {cpu - inner_c:.1f} | "
          f"{(wall - inner) / wall:.0%} | |")
    print(f"| **total** | **{wall:.1f}** | **{cpu:.1f}** | 100% | CPU/wall {cpu / wall:.2f} on "
          f"{os.cpu_count()} cores |")
    shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--naive-batches", type=int, default=30)
    ap.add_argument("--default-command", default="movietweetings",
                    help="datasets for the end-to-end default-command row (movietweetings, xwines; '' for none)")
    ap.add_argument("--db", type=Path, default=Path(__file__).resolve().parents[1] / ".bench" / "train_speed.db")
    ap.add_argument("--lstm", type=json.loads, default={}, metavar="JSON", help="LSTM settings to override")
    ap.add_argument("--skip-epoch-rows", action="store_true", help="only the default-command row(s)")
    args = ap.parse_args()
    import tensorflow as tf
    print(f"TensorFlow {tf.__version__}, devices: CPU only (forced), "
          f"intra-op threads {tf.config.threading.get_intra_op_parallelism_threads() or 'default'}")
    tf.config.set_visible_devices([], "GPU")
    for key in [k for k in args.default_command.split(",") if k]:
        default_command(key, args.db, args.lstm)
    if args.skip_epoch_rows:
        return
    ds = load_movietweetings(args.data)
    train = time_split(ds).train
    cfg = LSTMConfig()
    print(f"MovieTweetings TRAIN: {train.n_interactions} rows, {int(train.positive_mask().sum())} positives; "
          f"default config: objective={cfg.objective} batch={cfg.batch_size} d={cfg.embedding_dim} L={cfg.max_len}")
    eps, spe, n = ours(train, cfg)
    print(f"ours : {eps:10.0f} examples/s   {spe:8.1f} s/epoch   ({n} examples/epoch)")
    paper = LSTMConfig(objective="paper")
    p_eps, p_spe, _ = ours(train, paper)
    print(f"ours, objective=paper (positives + {paper.negatives} negatives each, same loss shape as naive): "
          f"{p_eps:.0f} positives/s = {p_eps * (1 + paper.negatives):.0f} rows/s, {p_spe:.1f} s/epoch")
    rps, rows = naive(train, cfg, args.naive_batches)
    naive_epoch = rows / rps
    print(f"naive: {rps:10.0f} rows/s       {naive_epoch:8.1f} s/epoch   ({rows} rows/epoch: positives + "
          f"{cfg.negatives} negatives each; measured over {args.naive_batches} batches)")
    print(f"ratio (same run): default is {naive_epoch / spe:.1f}x faster per epoch than naive; with the same "
          f"objective (paper) {naive_epoch / p_spe:.1f}x per epoch, {p_eps * (1 + paper.negatives) / rps:.1f}x per row")


if __name__ == "__main__":
    main()
