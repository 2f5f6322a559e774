"""The training loop (imports TensorFlow): a tf.function step over batches from tf.data, the item tower
run once per batch over the batch's distinct items (histories, targets and negatives gather from them),
per-epoch validation in numpy, early stopping on validation NDCG@10 with the best weights restored.

The item inputs (token ids or frozen encoder vectors, one row per item) stay in numpy, once: each batch's
distinct items' rows are gathered there, in the batch generator (`batch_inputs`). A TensorFlow constant
of the table would be a second copy, and TensorFlow's conversion keeps about as much again (a 293 MiB
float16 array cost 600 MiB of RSS as a `tf.constant`): 0.77 GB of encoder vectors at 1M items."""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from engine.data.dataset import Dataset
from engine.data.split import in_time_order, item_id_rank
from engine.errors import CancelledError
from engine.evaluation.protocol import users_per_batch
from engine.jobs.cancel import CancelToken
from engine.models.lstm.examples import TrainingArrays, training_arrays
from engine.models.lstm.numpy_tower import NumpyUserTower
from engine.models.lstm.sequences import time_order, user_inputs, window
from engine.models.lstm.towers import build_towers, export_user_tower, head_weights
from engine.models.lstm.warm import copy_weights
from engine.tfquiet import quiet_import
from engine.types import EpochStats


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
    id_index: np.ndarray | None = None   # item -> id-embedding row (warm start extends it)


PARTITION_ROWS = 64   # rows of scores partitioned at once in ValidationSet.sums


class ValidationSet:
    """Validation users' inputs (last L inner-train interactions), seen items and held-out positives."""

    def __init__(self, train: Dataset, users: np.ndarray, targets: list[np.ndarray], max_len: int):
        rank = item_id_rank(train)
        if in_time_order(train, rank):           # as loaded: read in place, no n-long index or copies
            u, items, ratings = train.user_idx, train.item_idx, train.rating
        else:
            order = time_order(train, rank)
            u, items, ratings = train.user_idx[order], train.item_idx[order], train.rating[order]
            del order
        starts = np.searchsorted(u, users, "left")
        ends = np.searchsorted(u, users, "right")
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
        """(Recall@k, NDCG@k) with full ranking, seen items excluded (docs/evaluation.md)."""
        rec, ndcg, n = self.sums(item_matrix, tower, k, batch, cancel)
        return rec / max(n, 1), ndcg / max(n, 1)

    def sums(self, item_matrix: np.ndarray, tower: NumpyUserTower, k: int = 10, batch: int = 512,
             cancel: CancelToken | None = None, part: tuple[int, int] = (0, 1)) -> tuple[float, float, int]:
        """(sum of Recall@k, sum of NDCG@k, users) over the users of `part` = (index, count): the
        slice one of `count` data-parallel workers evaluates before the sums are all-reduced."""
        recalls, ndcgs = [], []
        disc = 1.0 / np.log2(np.arange(2, k + 2))
        batch = users_per_batch(batch, item_matrix.shape[0])     # scores a batch: at most 128 MiB
        first = part[0] * len(self.hist) // part[1]
        last = (part[0] + 1) * len(self.hist) // part[1]
        for s in range(first, last, batch):
            if cancel is not None and cancel.cancelled:
                raise CancelledError()
            e = min(s + batch, last)
            seq, mask = user_inputs(item_matrix, self.hist[s:e], self.hist_r[s:e])
            scores = tower.encode(seq, mask) @ item_matrix.T
            for j in range(len(scores)):
                scores[j, self.seen[s + j]] = -np.inf
            # negated in place and partitioned 64 rows at a time: no second (B, n_items) float array and
            # no (B, n_items) int64 one (500 MiB a batch at 62,000 items); each row's result is unchanged
            np.negative(scores, out=scores)
            top = np.vstack([np.argpartition(scores[r:r + PARTITION_ROWS], k, axis=1)[:, :k]
                             for r in range(0, len(scores), PARTITION_ROWS)])
            top = np.take_along_axis(top, np.argsort(np.take_along_axis(scores, top, 1), 1), 1)
            for j in range(len(top)):
                t = self.targets[s + j]
                hits = np.isin(top[j], t)
                recalls.append(hits.sum() / len(t))
                ndcgs.append((hits * disc).sum() / disc[:min(k, len(t))].sum())
        return float(np.sum(recalls)), float(np.sum(ndcgs)), len(recalls)


def item_rows(tokens: np.ndarray, which) -> np.ndarray:
    """The item tower's first input for items `which` (1-based; 0 is padding): token ids as int32, frozen
    encoder vectors as float32 (a large catalogue keeps them in float16, half the memory)."""
    rows = tokens[which]
    return np.asarray(rows, np.float32 if np.issubdtype(rows.dtype, np.floating) else np.int32)


def item_matrix_of(item_tower, tokens: np.ndarray, id_index: np.ndarray, dim: int,
                   cancel: CancelToken | None = None, block: int = 4096) -> np.ndarray:
    """(n_items, dim) float32: the item tower over the whole catalogue, written block by block into one
    array (a list of blocks stacked held the matrix twice: 2 x 512 MB at 1M items and d = 128)."""
    n_items = len(id_index) - 1
    out = np.empty((n_items, dim), np.float32)
    for s in range(1, n_items + 1, block):
        if cancel is not None and cancel.cancelled:
            raise CancelledError()
        e = min(s + block, n_items + 1)
        out[s - 1:e - 1] = item_tower([item_rows(tokens, slice(s, e)), id_index[s:e]], training=False)
    return out


def batch_inputs(tokens: np.ndarray, id_index: np.ndarray, hist: np.ndarray, target: np.ndarray,
                 extra: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, row_ids, pos) of a batch: the item tower's inputs for its distinct items (histories, then
    targets, then `extra` items, padding 0 included) and, for each of those B*L + B + len(extra) places,
    the row of its item: gathered here in numpy, so the table is never copied into TensorFlow."""
    ids = np.concatenate([hist.reshape(-1), target, extra])
    uniq, pos = np.unique(ids, return_inverse=True)
    return item_rows(tokens, uniq), id_index[uniq].astype(np.int32), pos.astype(np.int32).reshape(-1)


def train_towers(cfg, train: Dataset | None, tokens: np.ndarray, *, epochs: int, validation: ValidationSet | None,
                 progress: Callable, cancel: CancelToken | None, device: str, epoch_offset: int = 0,
                 total_epochs: int | None = None, arrays: TrainingArrays | None = None, strategy=None,
                 rank: int = 0, warm=None) -> Fitted:
    """Train fresh towers on `train` (or on the given `arrays`) for up to `epochs` epochs (early stopping
    when `validation` is given).

    With a tf.distribute `strategy` (MultiWorkerMirroredStrategy, one replica per worker) this runs
    on every worker on its own shard `arrays`: the variables are mirrored, Keras' optimizer all-reduces
    the gradients, and every decision (stop, cancel, best epoch) is taken on all-reduced values so that
    the workers never diverge. `rank` seeds the worker's shuffle. A call after others (`epoch_offset`
    > 0, no validation) is the refit phase and reports as such ("refit 1/3"). `warm`: a finished run's
    Keras model whose weights the towers start from (warm.copy_weights; `arrays` maps its id rows)."""

    tf = quiet_import()
    import keras
    phase = "refit" if validation is None and epoch_offset > 0 else "epoch"


    keras.utils.set_random_seed(cfg.seed)
    a = arrays if arrays is not None else training_arrays(train)
    n_items = a.n_items
    n_rep = strategy.num_replicas_in_sync if strategy is not None else 1
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        towers = build_towers(n_tokens=cfg.max_tokens + 2, text_len=tokens.shape[1], n_ids=int(a.id_index.max()) + 1,
                              dim=cfg.embedding_dim, text_dim=cfg.text_dim, text_units=cfg.text_units,
                              user_units=cfg.user_units, max_len=cfg.max_len, use_item_ids=cfg.use_item_ids,
                              id_init=cfg.id_init, dense_bias=cfg.dense_bias, dropout=cfg.dropout,
                              text_vectors=np.issubdtype(tokens.dtype, np.floating))
        if warm is not None:
            copy_weights(towers, warm)
        opt = keras.optimizers.Adam(cfg.learning_rate, clipnorm=cfg.clipnorm or None)
        paper = cfg.objective == "paper"
        train_vars = towers.item.trainable_variables + towers.user.trainable_variables + \
            (towers.head.trainable_variables if paper else [])
        opt.build(train_vars)
    logq_t = tf.constant(a.log_q)
    inv_temp = 1.0 / cfg.temperature
    n_neg = int(cfg.negatives) if paper else 0
    L = cfg.max_len
    vectors_in = np.issubdtype(tokens.dtype, np.floating)

    def encode_batch(h, hr, t, rows, row_ids, pos):
        """User vectors, target vectors and the extra (negative) items' vectors of a batch: the item tower
        runs once over the batch's distinct items (`rows`, `row_ids`); `pos` places them (batch_inputs)."""
        b = tf.shape(t)[0]
        iv = tf.cast(towers.item([rows, row_ids], training=True), tf.float32)
        m = tf.cast(h > 0, tf.float32)[..., None]
        hv = tf.gather(iv, tf.reshape(pos[:b * L], [b, L])) * m
        seq = tf.concat([hv, hr[..., None] * m, m], -1)
        u = tf.cast(towers.user(seq, training=True), tf.float32)
        tv = tf.gather(iv, pos[b * L:b * L + b])
        ev = tf.gather(iv, pos[b * L + b:])
        return u, tv, ev

    spec = [tf.TensorSpec([None, L], tf.int32), tf.TensorSpec([None, L], tf.float32), tf.TensorSpec([None], tf.int32),
            tf.TensorSpec([None, tokens.shape[1]], tf.float32 if vectors_in else tf.int32),
            tf.TensorSpec([None], tf.int32), tf.TensorSpec([None], tf.int32)]

    def replica_step(h, hr, t, rows, row_ids, pos):
        with tf.GradientTape() as tape:
            b = tf.shape(t)[0]
            if paper:
                u, tv, nv = encode_batch(h, hr, t, rows, row_ids, pos)
                pos_cos = tf.reduce_sum(u * tv, -1, keepdims=True)
                neg_cos = tf.reduce_sum(tf.repeat(u, n_neg, 0) * nv, -1, keepdims=True)
                p = tf.cast(towers.head(tf.concat([pos_cos, neg_cos], 0), training=True), tf.float32)
                y = tf.concat([tf.ones([b, 1]), tf.zeros([b * n_neg, 1])], 0)
                loss = tf.reduce_mean(keras.losses.binary_crossentropy(y, p))
            else:
                u, tv, _ = encode_batch(h, hr, t, rows, row_ids, pos)
                logits = tf.matmul(u, tv, transpose_b=True) * inv_temp - tf.gather(logq_t, t)[None, :]
                same = tf.equal(t[:, None], t[None, :])
                accidental = tf.logical_and(same, tf.logical_not(tf.eye(b, dtype=tf.bool)))
                logits = tf.where(accidental, -1e9, logits)
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(tf.range(b), logits))
            # the optimizer all-reduces (sums) the replicas' gradients: scale to their mean
            scaled = loss / n_rep
        grads = tape.gradient(scaled, train_vars)
        opt.apply_gradients(zip(grads, train_vars))
        return loss

    if strategy is None:
        step = tf.function(replica_step, input_signature=spec, reduce_retracing=True)
    else:
        @tf.function(input_signature=spec, reduce_retracing=True)
        def step(*batch):
            return strategy.reduce("MEAN", strategy.run(replica_step, args=batch), axis=None)

        @tf.function
        def _all_sum(x):
            return strategy.reduce("SUM", strategy.run(lambda v: tf.identity(v), args=(x,)), axis=None)

    def all_sum(*values: float) -> list[float]:
        """Sum over the workers (identity on one machine): every worker gets the same answer."""
        if strategy is None:
            return list(values)
        return [float(v) for v in _all_sum(tf.constant(values, tf.float64)).numpy()]

    def stop_requested() -> bool:
        """A cancel seen by any worker stops all of them at the same step."""
        flag = cancel is not None and cancel.cancelled
        return (all_sum(float(flag))[0] > 0) if strategy is not None else flag

    def item_matrix() -> np.ndarray:
        return item_matrix_of(towers.item, tokens, a.id_index, cfg.embedding_dim,
                              cancel if strategy is None else None)

    def scale_offset() -> tuple[float, float]:
        return head_weights(towers) if paper else (float(inv_temp), 0.0)

    n = len(a)
    bs = int(cfg.batch_size)
    n_batches = max(1, -(-n // bs))

    # what the batch generators read, emptied when training ends: in eager mode TensorFlow keeps every
    # `from_generator` generator alive for the life of the process (a global graph's list of py-funcs), so
    # a generator that closed over the item inputs kept them (0.77 GB at 1M items) through the evaluation
    source = {"tokens": tokens, "arrays": a}

    def epoch_data(epoch: int):
        """The epoch's batches streamed from the (memory-mapped) examples, built one batch ahead."""
        def batches():
            inputs, examples = source["tokens"], source["arrays"]
            rng = np.random.default_rng([int(cfg.seed), rank, epoch_offset + epoch])    # the paper's negatives
            for h, hr, t in examples.batches(bs, L, cfg.seed + rank, epoch):
                neg = rng.integers(1, n_items + 1, len(t) * n_neg, dtype=np.int32)
                yield (h, hr, t, *batch_inputs(inputs, examples.id_index, h, t, neg))
        return tf.data.Dataset.from_generator(batches, output_signature=tuple(spec)).prefetch(2)
    total = total_epochs or epochs
    log: list[dict] = []
    best = (-1.0, 0, None)  # (ndcg, epoch, weights)
    t_start = time.perf_counter()
    bad = 0
    for epoch in range(epochs):
        t0 = time.perf_counter()
        loss_sum, seen = 0.0, 0
        for bi, batch in enumerate(epoch_data(epoch)):
            loss = float(step(*batch))
            loss_sum += loss
            seen += 1
            at_report = cfg.report_every and (bi + 1) % cfg.report_every == 0 and bi + 1 < n_batches
            if (strategy is None or at_report) and stop_requested():
                raise CancelledError()
            if at_report:
                el = time.perf_counter() - t0
                progress(EpochStats(epoch=epoch_offset + epoch + 1, epochs=total, loss=loss_sum / seen,
                                    examples_per_s=(bi + 1) * bs * n_rep / el, seconds=el,
                                    eta_s=el / (bi + 1) * (n_batches - bi - 1), batch=bi + 1, batches=n_batches,
                                    phase=phase, phase_epoch=epoch + 1, phase_epochs=epochs))
        secs = time.perf_counter() - t0
        loss_sum, seen = all_sum(loss_sum, seen) if strategy is not None else (loss_sum, seen)
        row = dict(epoch=epoch_offset + epoch + 1, loss=loss_sum / max(seen, 1), val_recall10=None, val_ndcg10=None,
                   examples_per_s=n * n_rep / secs, seconds=secs)
        if stop_requested():
            raise CancelledError()
        if validation is not None:
            tower = export_user_tower(towers)
            rec, ndcg, users = all_sum(*validation.sums(item_matrix(), tower, part=(rank, n_rep)))
            rec, ndcg = rec / max(users, 1), ndcg / max(users, 1)
            row.update(val_recall10=rec, val_ndcg10=ndcg)
            if ndcg > best[0]:
                best, bad = (ndcg, epoch + 1, [np.array(v.numpy()) for v in train_vars]), 0
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
    fitted = Fitted(item_matrix=item_matrix(), user_tower=export_user_tower(towers), scale=scale, offset=offset,
                    keras_model=towers.full, epochs=log, best_epoch=best_epoch, id_index=a.id_index)
    source.clear()
    return fitted
