"""The LSTM's training memory at scale (issue 21: 1M items in 4 GB), asserted on small catalogues by what
is held, never by time: the item inputs are never copied into TensorFlow whole, the item matrix is built
once, and items with few examples share one item-id row."""
from __future__ import annotations

import os

import numpy as np
import pytest

from engine.models.lstm.examples import TrainingArrays, id_rows
from engine.models.lstm.trainer import batch_inputs


def test_id_rows_only_for_items_with_enough_examples():
    counts = np.array([0, 5, 0, 1, 2, 9, 3], np.int32)       # item 0 is the padding item
    assert id_rows(counts).tolist() == [0, 1, 0, 2, 3, 4, 5]
    assert id_rows(counts, 3).tolist() == [0, 1, 0, 0, 0, 2, 3]
    assert id_rows(np.array([4, 4]), 3).tolist() == [0, 1]       # padding never gets a row


def test_with_id_rows_keeps_the_examples_and_thresholds_the_rows():
    counts = np.array([0, 5, 1, 3], np.int32)
    a = TrainingArrays(np.arange(4), np.ones(4, np.float32), np.arange(3), np.ones(3, np.int32),
                       id_rows(counts), np.zeros(4, np.float32), 3, counts=counts)
    b = a.with_id_rows(3)
    assert b.id_index.tolist() == [0, 1, 0, 2] and a.id_index.tolist() == [0, 1, 2, 3]
    assert b.pos is a.pos and b.items is a.items
    assert a.with_id_rows(1) is a


def test_batch_inputs_are_the_distinct_items_rows_and_their_places():
    rng = np.random.default_rng(0)
    tokens = rng.normal(size=(50, 6)).astype(np.float16)
    id_index = np.arange(50, dtype=np.int32) // 2
    hist = rng.integers(0, 50, (4, 5)).astype(np.int32)
    target = rng.integers(1, 50, 4).astype(np.int32)
    extra = rng.integers(1, 50, 7).astype(np.int32)
    rows, row_ids, pos = batch_inputs(tokens, id_index, hist, target, extra)
    ids = np.concatenate([hist.ravel(), target, extra])
    assert len(rows) == len(np.unique(ids)) < len(ids)            # each distinct item once
    assert rows.dtype == np.float32 and row_ids.dtype == np.int32 and pos.dtype == np.int32
    np.testing.assert_array_equal(rows[pos], tokens[ids].astype(np.float32))
    np.testing.assert_array_equal(row_ids[pos], id_index[ids])
    int_rows, _, _ = batch_inputs(np.arange(100, dtype=np.int32).reshape(50, 2), id_index, hist, target, extra)
    assert int_rows.dtype == np.int32


def _tower(n_ids: int, dim: int, width: int):
    from engine.models.lstm.towers import build_towers
    return build_towers(n_tokens=10, text_len=width, n_ids=n_ids, dim=dim, text_dim=4, text_units=4, user_units=8,
                        max_len=4, use_item_ids=True, text_vectors=True).item


def _rss_and_peak() -> tuple[int, int]:
    """(VmRSS, VmHWM) of this process in bytes."""
    vals = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS", "VmHWM")):
                key, value = line.split(":")
                vals[key] = int(value.split()[0]) * 1024
    return vals["VmRSS"], vals["VmHWM"]


@pytest.mark.slow
@pytest.mark.skipif(not os.access("/proc/self/clear_refs", os.W_OK), reason="needs Linux's /proc peak reset")
def test_the_item_matrix_is_built_once_into_one_array():
    """Peak RSS over the build is one matrix (blocks stacked from a list peaked at 2.00x the matrix, in
    this test's own measurement: the list's tensors and the stacked copy)."""
    from engine.models.lstm.trainer import item_matrix_of
    n, dim = 200_000, 128                                              # a 100 MiB matrix
    tokens = np.random.default_rng(1).normal(size=(n + 1, 8)).astype(np.float16)
    id_index = np.arange(n + 1, dtype=np.int32) % 100
    tower = _tower(100, dim, 8)
    item_matrix_of(tower, tokens[:5000], id_index[:5000], dim)        # traced once before measuring
    with open("/proc/self/clear_refs", "w") as f:                     # the peak starts again from here
        f.write("5")
    before, _ = _rss_and_peak()
    out = item_matrix_of(tower, tokens, id_index, dim)
    _, peak = _rss_and_peak()
    assert out.shape == (n, dim) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-4)
    assert peak - before < out.nbytes * 1.5, ((peak - before) / out.nbytes)


@pytest.mark.slow
def test_training_never_hands_tensorflow_the_whole_item_table(monkeypatch):
    """The frozen item vectors stay in numpy only: no conversion to a tensor of the table's size (a
    `tf.constant` of it held about twice its size in RSS, beside the numpy rows)."""
    import tensorflow as tf

    from engine.data.split import time_split
    from engine.models.lstm.examples import training_arrays
    from engine.models.lstm.model import LSTMConfig
    from engine.models.lstm.trainer import train_towers
    from tests.engine.test_lstm import TINY, tiny_dataset
    train = time_split(tiny_dataset(n_items=5000, n_users=60)).train
    tokens = np.random.default_rng(2).normal(size=(train.n_items + 1, 12)).astype(np.float16)
    largest = [0]
    for name in ("constant", "convert_to_tensor"):
        real = getattr(tf, name)

        def spy(value, *a, _real=real, **k):
            if isinstance(value, np.ndarray) and value.ndim == 2:     # rows of item inputs (not log_q)
                largest[0] = max(largest[0], len(value))
            return _real(value, *a, **k)
        monkeypatch.setattr(tf, name, spy)
    cfg = LSTMConfig(**{**TINY, "epochs": 1, "text_encoder": "minilm"})
    fitted = train_towers(cfg, train, tokens, epochs=1, validation=None, progress=lambda _: None, cancel=None,
                          device="/CPU:0", arrays=training_arrays(train))
    assert fitted.item_matrix.shape == (train.n_items, cfg.embedding_dim)
    assert 0 < largest[0] <= 4096 < len(tokens)      # a block of the item matrix at most


@pytest.mark.slow
def test_items_under_the_threshold_share_the_cold_row_and_the_table_shrinks():
    from engine.data.split import time_split
    from engine.models.lstm.model import LSTMRecommender
    from tests.engine.test_lstm import TINY, tiny_dataset
    train = time_split(tiny_dataset()).train
    sizes = {}
    for k in (1, 3):
        model = LSTMRecommender(**{**TINY, "epochs": 1, "text_encoder": "lstm", "id_min_examples": k})
        model.fit(train)
        table = model.keras_model.get_layer("item_tower").get_layer("id_embedding").get_weights()[0]
        sizes[k] = len(table)
        assert len(table) == int(model.id_index.max()) + 1
    counts = np.bincount(model.id_index)
    assert sizes[3] < sizes[1] and counts[0] > 1 and (counts[1:] == 1).all()


@pytest.mark.slow
def test_the_item_inputs_are_released_when_training_returns():
    """Nothing training leaves behind keeps the item inputs alive (TensorFlow keeps every `from_generator`
    generator for the life of the process: one that closed over them held 0.77 GB at 1M items through the
    evaluation and the save)."""
    import gc
    import weakref

    from engine.data.split import time_split
    from engine.models.lstm.examples import training_arrays
    from engine.models.lstm.model import LSTMConfig
    from engine.models.lstm.trainer import train_towers
    from tests.engine.test_lstm import TINY, tiny_dataset
    train = time_split(tiny_dataset()).train
    tokens = np.random.default_rng(3).normal(size=(train.n_items + 1, 12)).astype(np.float16)
    held = weakref.ref(tokens)
    cfg = LSTMConfig(**{**TINY, "epochs": 1, "text_encoder": "minilm"})
    fitted = train_towers(cfg, train, tokens, epochs=1, validation=None, progress=lambda _: None, cancel=None,
                          device="/CPU:0", arrays=training_arrays(train))
    del tokens
    gc.collect()
    assert fitted.item_matrix.shape[0] == train.n_items
    assert held() is None
