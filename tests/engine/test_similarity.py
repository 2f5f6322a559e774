"""Similarity spaces: TF-IDF cosine, Jaccard on genre sets, model cosine; batched nearest neighbours."""
from __future__ import annotations

import numpy as np
import pytest

from engine.data.dataset import Dataset
from engine.explore.similarity import (
    genre_matrix,
    ild,
    mean_pairwise_similarity,
    nearest_items,
    similarity_matrix,
    similarity_to_all,
    text_index,
)
from engine.types import DatasetInfo


def tiny_dataset(titles, genres, descriptions=None) -> Dataset:
    n = len(titles)
    info = DatasetInfo(1, "tiny", 1, n, 0, 1.0, 5.0, 4.0)
    empty = np.zeros(0)
    return Dataset(info, np.array(["u0"], dtype=object), np.array([f"i{i}" for i in range(n)], dtype=object),
                   list(titles), [tuple(g) for g in genres], list(descriptions or [""] * n),
                   empty.astype(np.int32), empty.astype(np.int32), empty.astype(np.float32),
                   empty.astype(np.int64), 4.0)


class VectorModel:
    def __init__(self, v):
        self.v = v

    def item_vectors(self):
        return self.v


@pytest.fixture
def ds():
    return tiny_dataset(
        ["Space Wars", "Space Wars II", "Love in Paris", "Paris Nights", "Untitled"],
        [("Sci-Fi", "Action"), ("Sci-Fi", "Action"), ("Romance",), ("Romance", "Drama"), ()],
        ["a space battle", "another space battle", "a love story", "night in paris", ""])


def test_jaccard_on_genre_sets(ds):
    sim = similarity_matrix([0, 1, 2, 3, 4], "genres", dataset=ds)
    assert sim[0, 1] == pytest.approx(1.0)
    assert sim[0, 2] == 0.0
    assert sim[2, 3] == pytest.approx(0.5)          # {Romance} vs {Romance, Drama}
    assert np.isnan(sim[4]).all() and np.isnan(sim[:, 4]).all()   # no genres: unknown, not "identical"
    # ILD skips the unknown pairs: pairs among 0..3 only
    vals = [1 - sim[i, j] for i in range(4) for j in range(i + 1, 4)]
    assert ild(sim) == pytest.approx(np.mean(vals))
    assert mean_pairwise_similarity(sim) == pytest.approx(1 - np.mean(vals))
    np.testing.assert_allclose(similarity_to_all(3, "genres", dataset=ds)[:4], sim[3, :4])


def test_tfidf_cosine(ds):
    sim = similarity_matrix(np.arange(5), "text", dataset=ds)
    np.testing.assert_allclose(np.diag(sim)[:4], 1.0, rtol=1e-5)
    assert sim[0, 1] > 0.5 and sim[2, 3] > 0.1       # shared words
    assert sim[0, 2] == pytest.approx(0.0, abs=1e-6)  # nothing shared ("a" is a stop word)
    assert text_index(ds) is text_index(ds)           # fitted once per dataset
    for i in range(5):
        np.testing.assert_allclose(similarity_to_all(i, "text", dataset=ds), sim[i], atol=1e-6)


def test_nearest_items_batched_equals_brute_force():
    rng = np.random.default_rng(0)
    n = 500
    ds = tiny_dataset([f"t{i}" for i in range(n)], [("g%d" % (i % 7),) for i in range(n)])
    v = rng.normal(size=(n, 16)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    model = VectorModel(v)
    queries = np.arange(0, n, 37)
    a_idx, a_sim = nearest_items(queries, "model", dataset=ds, model=model, n=8, batch=3)
    b_idx, b_sim = nearest_items(queries, "model", dataset=ds, model=model, n=8, batch=1000)
    np.testing.assert_array_equal(a_idx, b_idx)
    for r, q in enumerate(queries):
        s = v @ v[q]
        s[q] = -np.inf
        np.testing.assert_array_equal(a_idx[r], np.argsort(-s, kind="stable")[:8])
        np.testing.assert_allclose(a_sim[r], s[a_idx[r]], rtol=1e-5)
    idx, sims = nearest_items([3], "genres", dataset=ds, model=None, n=5, exclude=[10])
    assert (sims == 1.0).all() and 3 not in idx and 10 not in idx
    assert (idx[0] % 7 == 3).all()


def test_genre_matrix_and_errors(ds):
    g = genre_matrix(ds)
    assert g.shape == (5, 4) and g[4].sum() == 0 and g[0].sum() == 2
    with pytest.raises(ValueError):
        similarity_matrix([0], "colour", dataset=ds)
    from engine.errors import EngineError
    with pytest.raises(EngineError):
        similarity_matrix([0, 1], "model", dataset=ds, model=VectorModel(None))


def test_genre_index_gathered_from_distinct_sets_equals_the_item_by_item_build():
    """genre_index indexes each distinct genre set once and gathers: the same CSR/CSC as row by row."""
    from engine.explore.similarity import SparseRows, genre_index

    class SimpleNamespace:           # weak-referencable (the cache lives as long as the dataset)
        def __init__(self, **kw):
            self.__dict__.update(kw)
    rng = np.random.default_rng(3)
    pool = ["Drama", "Comedy", "War", "Red", "Sport"]
    genres = [tuple(rng.choice(pool, rng.integers(0, 4))) for _ in range(500)]    # repeats and duplicates inside
    ds = SimpleNamespace(genres=genres, n_items=len(genres))
    got, names = genre_index(ds)
    assert names == sorted({g for gs in genres for g in gs})
    pos = {g: j for j, g in enumerate(names)}
    rows = [sorted({pos[g] for g in gs}) for gs in genres]
    want = SparseRows.from_lists(rows, [[1.0] * len(r) for r in rows], len(names))
    for field in ("n_rows", "n_cols", "indptr", "indices", "data", "col_ptr", "col_rows", "col_data"):
        assert np.array_equal(getattr(got, field), getattr(want, field)), field


def test_genre_matrix_held_grouped_gives_the_dense_rows_ild_and_calibration():
    """genre_matrix keeps one row per distinct genre set plus a code per item: every way the engine reads
    it (row gathers, [rows, cols], np.asarray, ILD, calibration re-rank) gives what the dense multi-hot
    matrix gives."""
    from engine.data.grouped_rows import GroupedRows
    from engine.evaluation import metrics as M
    from engine.explore.rerank import rerank
    from engine.explore.similarity import genre_mix
    rng = np.random.default_rng(5)
    pool = ["Drama", "Comedy", "War", "Red", "Sport", "Noir"]
    genres = [tuple(rng.choice(pool, rng.integers(0, 4))) for _ in range(300)]   # duplicates inside too
    ds = tiny_dataset([f"t{i}" for i in range(300)], genres)
    gm = genre_matrix(ds)
    assert isinstance(gm, GroupedRows) and len(gm.distinct) < 300
    names = sorted(set(pool) & {g for gs in genres for g in gs})
    dense = np.zeros((300, len(names)), np.float32)
    for i, gs in enumerate(genres):
        for g in gs:
            dense[i, names.index(g)] = 1.0
    assert gm.shape == dense.shape and np.array_equal(np.asarray(gm), dense)
    idx = rng.integers(0, 300, 40)
    assert np.array_equal(gm[idx], dense[idx]) and np.array_equal(gm[7], dense[7])
    assert np.array_equal(gm[idx, 1], dense[idx, 1]) and np.array_equal(gm[3:9], dense[3:9])
    lists = rng.integers(0, 300, (25, 10))
    assert np.allclose(M.ild_rows(lists, gm), M.ild_rows(lists, dense), equal_nan=True)
    assert np.array_equal(M.ild_rows(lists, gm), M.ild_rows(lists, M.genre_vectors(ds)), equal_nan=True)
    target = genre_mix(gm[idx[:8]])
    assert np.array_equal(target, genre_mix(dense[idx[:8]]))
    scores = rng.random(40).astype(np.float32)
    vecs = rng.standard_normal((40, 4)).astype(np.float32)
    a = rerank(scores, vecs, 10, 0.5, "calibration", genres=gm[idx], target=target)
    b = rerank(scores, vecs, 10, 0.5, "calibration", genres=dense[idx], target=target)
    assert np.array_equal(a.order, b.order) and np.array_equal(a.gain, b.gain)
