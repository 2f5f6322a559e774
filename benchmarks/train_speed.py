"""Training speed of the LSTM two-tower model on MovieTweetings-100k, CPU, default configuration,
beside a naive Keras model of the source article's code shape measured in the same run.

Ours: the item tower runs once per batch over the batch's distinct items and histories gather from
those vectors; tf.data input; one tf.function step. Naive: one row per (history, item, label)
(positives plus the same number of uniform negatives as the `paper` objective), the item tower run
inside TimeDistributed for every history item and the target of every row, trained with model.fit.
Both use the same tower sizes. Figures: examples/s (an example = one TRAIN positive with its history;
for the naive model a row, i.e. a positive or a negative) and seconds per epoch over all TRAIN positives.

    .venv/bin/python benchmarks/train_speed.py [--data DIR] [--naive-batches 30]
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--naive-batches", type=int, default=30)
    args = ap.parse_args()
    import tensorflow as tf
    print(f"TensorFlow {tf.__version__}, devices: CPU only (forced), "
          f"intra-op threads {tf.config.threading.get_intra_op_parallelism_threads() or 'default'}")
    tf.config.set_visible_devices([], "GPU")
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
