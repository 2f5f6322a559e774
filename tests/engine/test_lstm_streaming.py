"""Training that streams: the examples are exported once to memory-mapped files, batches are gathered
from them in a keyed shuffle, and they are exactly the rows the in-memory builder makes."""
from __future__ import annotations

import numpy as np
import pytest

from tests.engine.test_lstm import TINY, tiny_dataset

pytestmark = pytest.mark.slow   # TensorFlow training: the full tier only (`pytest -m "not slow"` skips it)


@pytest.fixture(scope="module")
def train():
    from engine.data.split import time_split
    return time_split(tiny_dataset()).train


@pytest.mark.parametrize("n", [1, 2, 3, 17, 1000, 4097])
def test_permuted_is_a_permutation_that_changes_with_the_epoch(n):
    from engine.models.lstm.examples import permuted
    epoch0 = np.concatenate([permuted(n, 42, 0, a, min(n, a + 64)) for a in range(0, n, 64)])
    assert np.array_equal(np.sort(epoch0), np.arange(n))
    if n >= 17:
        epoch1 = permuted(n, 42, 1, 0, n)
        assert np.array_equal(np.sort(epoch1), np.arange(n))
        assert not np.array_equal(epoch0, epoch1) and not np.array_equal(epoch0, np.arange(n))


def test_streamed_batches_equal_the_in_memory_examples(train, tmp_path):
    from engine.models.lstm.examples import permuted, training_arrays
    from engine.models.lstm.sequences import build_examples
    L = 8
    hist, hist_r, target = build_examples(train, L)
    a = training_arrays(train, tmp_path)
    assert isinstance(a.items, np.memmap) and isinstance(a.pos, np.memmap)     # read from the files
    assert len(a) == len(target) and np.array_equal(a.target, target)
    seen = list(a.batches(64, L, seed=7, epoch=0))
    n = len(target)
    for b, (h, hr, t) in enumerate(seen):
        rows = permuted(n, 7, 0, 64 * b, min(n, 64 * b + 64))
        assert np.array_equal(h, hist[rows]) and np.array_equal(t, target[rows])
        np.testing.assert_array_equal(hr, hist_r[rows])
    assert sum(len(t) for _, _, t in seen) == n
    # a shorter history window from the same export is the builder's rows for that L
    h3, hr3, t3 = build_examples(train, 3)
    rows = np.arange(n)
    got = a.batch(rows, 3)
    assert np.array_equal(got[0], h3) and np.array_equal(got[1], hr3) and np.array_equal(got[2], t3)


def test_the_export_is_reused_and_training_from_it_equals_training_in_memory(train, tmp_path):
    from engine.models.lstm.model import LSTMRecommender
    params = {**TINY, "epochs": 1, "text_encoder": "lstm"}
    in_memory = LSTMRecommender(**params)
    in_memory.fit(train)
    streamed = LSTMRecommender(**params)
    streamed.example_cache = tmp_path / "examples"
    streamed.fit(train)
    folders = list((tmp_path / "examples").iterdir())
    assert len(folders) == 1 and sorted(p.name for p in folders[0].iterdir()) == sorted(
        f"{n}.npy" for n in ("items", "feats", "pos", "back", "id_index", "log_q", "counts"))
    assert streamed.epochs[0]["loss"] == pytest.approx(in_memory.epochs[0]["loss"], rel=1e-5)
    np.testing.assert_allclose(streamed.item_matrix, in_memory.item_matrix, atol=1e-5)
    stamp = {p.name: p.stat().st_mtime_ns for p in folders[0].iterdir()}
    again = LSTMRecommender(**params)
    again.example_cache = tmp_path / "examples"
    again.fit(train)
    assert list((tmp_path / "examples").iterdir()) == folders
    assert {p.name: p.stat().st_mtime_ns for p in folders[0].iterdir()} == stamp      # not written again


def test_old_exports_are_pruned(train, tmp_path):
    import os

    from engine.models.lstm.examples import KEEP_EXPORTS, fingerprint, training_arrays
    parts = [train.subset(np.arange(train.n_interactions) % 7 != k) for k in range(KEEP_EXPORTS + 2)]
    for k, part in enumerate(parts):
        training_arrays(part, tmp_path)
        folder = tmp_path / fingerprint(part)
        os.utime(folder, (1_000_000 + k, 1_000_000 + k))          # a distinct use time each
    training_arrays(parts[0], tmp_path)                           # exported again: the newest now
    left = {p.name for p in tmp_path.iterdir()}
    assert len(left) == KEEP_EXPORTS
    assert left == {fingerprint(p) for p in (parts[0], *parts[-(KEEP_EXPORTS - 1):])}
