"""The training loop (imports TensorFlow): a tf.function step over batches from tf.data, the item tower
run once per batch over the batch's distinct items (histories, targets and negatives gather from them),
per-epoch validation in numpy, early stopping on validation NDCG@10 with the best weights restored."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ...data.dataset import Dataset
from ...errors import CancelledError, EngineError
from ...jobs import CancelToken
from ...types import EpochStats
from .numpy_tower import NumpyUserTower
from .sequences import build_examples, time_order, user_inputs, window


@dataclass
class Fitted:
    """What training leaves behind: numpy inference parts plus the Keras model for saving."""
    item_matrix: np.ndarray
    user_tower: NumpyUserTower
    scale: float
    offset: float
    keras_model: Any
    epochs: list[dict] = field(default_factory=list)
    best_epoch: int = 0


class ValidationSet:
    """Validation users' inputs (last L inner-train interactions), seen items and held-out positives."""

    def __init__(self, train: Dataset, users: np.ndarray, targets: list[np.ndarray], max_len: int):
        order = time_order(train)
        u = train.user_idx[order]
        starts = np.searchsorted(u, users, "left")
        ends = np.searchsorted(u, users, "right")
        items, ratings = train.item_idx[order], train.rating[order]
        self.hist = np.zeros((len(users), max_len), np.int32)
        self.hist_r = np.zeros((len(users), max_len), np.float32)
        self.seen = []
        for k, (s, e) in enumerate(zip(starts, ends)):
            self.hist[k], self.hist_r[k] = window(items[s:e], ratings[s:e], max_len, train.info.rating_min,
                                                  train.info.rating_max)
            self.seen.append(items[s:e])
        self.targets = targets

    def metrics(self, item_matrix: np.ndarray, tower: NumpyUserTower, k: int = 10, batch: int = 512,
                cancel: CancelToken | None = None) -> tuple[float, float]:
        """(Recall@k, NDCG@k) with full ranking, seen items excluded (EVALUATION.md)."""
        recalls, ndcgs = [], []
        disc = 1.0 / np.log2(np.arange(2, k + 2))
        for s in range(0, len(self.hist), batch):
            if cancel is not None and cancel.cancelled:
                raise CancelledError()
            seq, mask = user_inputs(item_matrix, self.hist[s:s + batch], self.hist_r[s:s + batch])
            scores = tower.encode(seq, mask) @ item_matrix.T
            for j in range(len(scores)):
                scores[j, self.seen[s + j]] = -np.inf
            top = np.argpartition(-scores, k, axis=1)[:, :k]
            top = np.take_along_axis(top, np.argsort(-np.take_along_axis(scores, top, 1), 1), 1)
            for j in range(len(top)):
                t = self.targets[s + j]
                hits = np.isin(top[j], t)
                recalls.append(hits.sum() / len(t))
                ndcgs.append((hits * disc).sum() / disc[:min(k, len(t))].sum())
        return float(np.mean(recalls)), float(np.mean(ndcgs))


def train_towers(cfg, train: Dataset, tokens: np.ndarray, *, epochs: int, validation: ValidationSet | None,
                 progress: Callable, cancel: CancelToken | None, device: str, epoch_offset: int = 0,
                 total_epochs: int | None = None) -> Fitted:
    """Train fresh towers on `train` for up to `epochs` epochs (early stopping when `validation` is given).
    A call after others (`epoch_offset` > 0, no validation) is the refit phase and reports as such."""
    phase = "refit" if validation is None and epoch_offset > 0 else "epoch"
    from ...tfquiet import quiet_import
    tf = quiet_import()
    import keras

    from .towers import build_towers, export_user_tower, head_weights

    keras.utils.set_random_seed(cfg.seed)
    hist, hist_r, target = build_examples(train, cfg.max_len)
    if len(target) == 0:
        raise EngineError("not enough interactions to train the LSTM: no user has a positive after an "
                          "earlier interaction")
    n_items = train.n_items
    # the item-id embedding covers items with a TRAIN positive; the others share row 0 (cold start)
    known = np.zeros(n_items + 1, bool)
    known[target] = True
    id_index = np.where(known, np.cumsum(known), 0).astype(np.int32)
    counts = np.bincount(target, minlength=n_items + 1).astype(np.float64)
    log_q = np.log(np.maximum(counts, 1) / max(counts.sum(), 1)).astype(np.float32)

    towers = build_towers(n_tokens=cfg.max_tokens + 2, text_len=tokens.shape[1], n_ids=int(known.sum()) + 1,
                          dim=cfg.embedding_dim, text_dim=cfg.text_dim, text_units=cfg.text_units,
                          user_units=cfg.user_units, max_len=cfg.max_len, use_item_ids=cfg.use_item_ids,
                          id_init=cfg.id_init, dense_bias=cfg.dense_bias)
    opt = keras.optimizers.Adam(cfg.learning_rate, clipnorm=cfg.clipnorm or None)
    tok_t = tf.constant(tokens)
    ids_t = tf.constant(id_index)
    logq_t = tf.constant(log_q)
    inv_temp = 1.0 / cfg.temperature
    paper = cfg.objective == "paper"
    n_neg = int(cfg.negatives)
    train_vars = towers.item.trainable_variables + towers.user.trainable_variables + \
        (towers.head.trainable_variables if paper else [])
    opt.build(train_vars)
    L = cfg.max_len

    def encode_batch(h, hr, t, extra):
        b = tf.shape(t)[0]
        ids = tf.concat([tf.reshape(h, [-1]), t, tf.reshape(extra, [-1])], 0)
        uniq, pos = tf.unique(ids)
        iv = towers.item([tf.gather(tok_t, uniq), tf.gather(ids_t, uniq)], training=True)
        iv = tf.cast(iv, tf.float32)
        m = tf.cast(h > 0, tf.float32)[..., None]
        hv = tf.gather(iv, tf.reshape(pos[:b * L], [b, L])) * m
        seq = tf.concat([hv, hr[..., None] * m, m], -1)
        u = tf.cast(towers.user(seq, training=True), tf.float32)
        tv = tf.gather(iv, pos[b * L:b * L + b])
        ev = tf.gather(iv, pos[b * L + b:])
        return u, tv, ev

    spec = [tf.TensorSpec([None, L], tf.int32), tf.TensorSpec([None, L], tf.float32), tf.TensorSpec([None], tf.int32)]

    @tf.function(input_signature=spec, reduce_retracing=True)
    def step(h, hr, t):
        with tf.GradientTape() as tape:
            b = tf.shape(t)[0]
            if paper:
                neg = tf.random.uniform([b * n_neg], 1, n_items + 1, dtype=tf.int32)
                u, tv, nv = encode_batch(h, hr, t, neg)
                pos_cos = tf.reduce_sum(u * tv, -1, keepdims=True)
                neg_cos = tf.reduce_sum(tf.repeat(u, n_neg, 0) * nv, -1, keepdims=True)
                p = tf.cast(towers.head(tf.concat([pos_cos, neg_cos], 0), training=True), tf.float32)
                y = tf.concat([tf.ones([b, 1]), tf.zeros([b * n_neg, 1])], 0)
                loss = tf.reduce_mean(keras.losses.binary_crossentropy(y, p))
            else:
                u, tv, _ = encode_batch(h, hr, t, tf.zeros([0], tf.int32))
                logits = tf.matmul(u, tv, transpose_b=True) * inv_temp - tf.gather(logq_t, t)[None, :]
                same = tf.equal(t[:, None], t[None, :])
                accidental = tf.logical_and(same, tf.logical_not(tf.eye(b, dtype=tf.bool)))
                logits = tf.where(accidental, -1e9, logits)
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(tf.range(b), logits))
        grads = tape.gradient(loss, train_vars)
        opt.apply_gradients(zip(grads, train_vars))
        return loss

    def item_matrix() -> np.ndarray:
        out = []
        for s in range(1, n_items + 1, 4096):
            if cancel is not None and cancel.cancelled:
                raise CancelledError()
            e = min(s + 4096, n_items + 1)
            out.append(np.asarray(towers.item([tokens[s:e], id_index[s:e]], training=False), np.float32))
        return np.vstack(out)

    def scale_offset() -> tuple[float, float]:
        return head_weights(towers) if paper else (float(inv_temp), 0.0)

    n = len(target)
    bs = int(cfg.batch_size)
    n_batches = max(1, -(-n // bs))
    data = tf.data.Dataset.from_tensor_slices((hist, hist_r, target.astype(np.int32)))
    data = data.shuffle(n, seed=cfg.seed, reshuffle_each_iteration=True).batch(bs).prefetch(2)
    total = total_epochs or epochs
    log: list[dict] = []
    best = (-1.0, 0, None)  # (ndcg, epoch, weights)
    t_start = time.perf_counter()
    bad = 0
    for epoch in range(epochs):
        t0 = time.perf_counter()
        loss_sum, seen = 0.0, 0
        for bi, (h, hr, t) in enumerate(data):
            loss = float(step(h, hr, t))
            loss_sum += loss
            seen += 1
            if cancel is not None and cancel.cancelled:
                raise CancelledError()
            if cfg.report_every and (bi + 1) % cfg.report_every == 0 and bi + 1 < n_batches:
                el = time.perf_counter() - t0
                progress(EpochStats(epoch=epoch_offset + epoch + 1, epochs=total, loss=loss_sum / seen,
                                    examples_per_s=(bi + 1) * bs / el, seconds=el,
                                    eta_s=el / (bi + 1) * (n_batches - bi - 1), batch=bi + 1, batches=n_batches,
                                    phase=phase, phase_epoch=epoch + 1, phase_epochs=epochs))
        secs = time.perf_counter() - t0
        row = dict(epoch=epoch_offset + epoch + 1, loss=loss_sum / max(seen, 1), val_recall10=None, val_ndcg10=None,
                   examples_per_s=n / secs, seconds=secs)
        if cancel is not None and cancel.cancelled:
            raise CancelledError()
        if validation is not None:
            rec, ndcg = validation.metrics(item_matrix(), export_user_tower(towers), cancel=cancel)
            row.update(val_recall10=rec, val_ndcg10=ndcg)
            if ndcg > best[0]:
                best, bad = (ndcg, epoch + 1, [v.numpy() for v in train_vars]), 0
            else:
                bad += 1
        log.append(row)
        elapsed = time.perf_counter() - t_start
        stop = validation is not None and bad >= cfg.patience
        left = 0 if stop else epochs - epoch - 1
        progress(EpochStats(epoch=row["epoch"], epochs=total, loss=row["loss"], val_recall10=row["val_recall10"],
                            val_ndcg10=row["val_ndcg10"], examples_per_s=row["examples_per_s"], seconds=secs,
                            eta_s=elapsed / (epoch + 1) * left, phase=phase, phase_epoch=epoch + 1,
                            phase_epochs=epochs))
        if stop:
            break
    best_epoch = len(log)
    if validation is not None and best[2] is not None:
        for v, w in zip(train_vars, best[2]):
            v.assign(w)
        best_epoch = best[1]
    scale, offset = scale_offset()
    return Fitted(item_matrix=item_matrix(), user_tower=export_user_tower(towers), scale=scale, offset=offset,
                  keras_model=towers.full, epochs=log, best_epoch=best_epoch)
