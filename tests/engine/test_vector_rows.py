"""Item vectors read on demand (engine.retrieval.vector_rows.NpyRows) give exactly what the in-memory matrix
gives, on a tiny really trained LSTM run: rows, scores, candidates through the ANN index, live lists,
heatmaps, dislikes, evaluation; old and compressed model files still load; and a pick reads only the
rows it uses (counted on the reader)."""
from __future__ import annotations

import numpy as np
import pytest

from engine.retrieval.vector_rows import NpyRows, npz_nonfinite


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A store with a tiny demo dataset and a really trained LSTM run (holdout), with a forced index."""
    from engine.data.dataset import write_dataset
    from engine.data.demo import generate_demo
    from engine.runs.indexing import build_run_index
    from engine.runs.training import TrainConfig, run_training
    from engine.store import open_store
    store = open_store(str(tmp_path_factory.mktemp("rows") / "rows.db"))
    write_dataset(store, "tiny", **generate_demo(n_items=120, n_users=80, seed=3))
    cfg = TrainConfig(dataset="tiny", epochs=2, batch_size=64, embedding_dim=16, text_dim=8, text_units=16,
                      user_units=16, max_len=8, learning_rate=0.01, temperature=0.1, device="cpu", tune=False,
                      extra={"max_tokens": 500, "report_every": 2, "text_encoder": "lstm"})
    run_id = run_training(cfg, store).run_id
    build_run_index(store, run_id, force=True)
    yield store, run_id
    store.close()


def both(store, run_id):
    """The run loaded as before (vectors in memory) and with its vectors read on demand."""
    from engine.runs.loaded import load_run, run_from_parts, run_parts
    mem = load_run(store, run_id)
    disk = run_from_parts(*run_parts(store, run_id), rows_on_demand=True)
    assert isinstance(mem.model.item_vectors(), np.ndarray)
    assert isinstance(disk.model.item_vectors(), NpyRows)
    return mem, disk


def test_rows_and_products_equal_the_in_memory_matrix(trained, monkeypatch):
    import engine.retrieval.vector_rows as vr
    mem, disk = both(*trained)
    x, r = mem.model.item_vectors(), disk.model.item_vectors()
    assert r.shape == x.shape and len(r) == len(x) and r.dtype == np.float32 and r.ndim == 2 and r.nbytes == 0
    n = len(x)
    for key in (0, n - 1, -3, slice(5, 40), slice(None), slice(3, None, 7), slice(9, 2),
                np.array([[4, 4, n - 1], [0, 2, 1]]), [7, -1, 7], x[:, 0] > 0, np.array([], np.int64),
                (slice(2, 9), 3), (np.array([1, 2]), slice(0, 4))):
        got, want = r[key], x[key]
        assert got.shape == want.shape and np.array_equal(got, want), key
    with pytest.raises(IndexError):
        r[n]
    with pytest.raises(IndexError):
        r[np.array([0, n])]
    u = np.random.default_rng(0).normal(size=(5, x.shape[1])).astype(np.float32)
    assert np.array_equal(np.asarray(r), x)
    assert np.array_equal(u @ r.T, u @ x.T) and np.array_equal(u[0] @ r.T, u[0] @ x.T)   # one block: exact
    assert np.array_equal(r @ u[0], x @ u[0])
    monkeypatch.setattr(vr, "BLOCK", 7)          # many blocks: the same rows, BLAS may round differently
    before = r.reads
    np.testing.assert_allclose(u @ r.T, u @ x.T, rtol=1e-6, atol=1e-6)
    assert r.reads - before == -(-n // 7)
    np.testing.assert_allclose(r @ u[0], x @ u[0], rtol=1e-6, atol=1e-6)


def test_scores_candidates_lists_and_heatmaps_are_the_same(trained):
    from engine.evaluation.protocol import evaluate
    from engine.explore.live_list import UserRecommendations
    mem, disk = both(*trained)
    assert mem.index is not None and disk.index is not None and disk.index.vectors is disk.model.item_vectors()
    users = [int(u) for u in mem.split.test_users[:8]]
    for u in users:
        items, ratings = mem.history(u)
        assert np.array_equal(mem.model.score(items, ratings), disk.model.score(items, ratings))
        for a, b in zip(mem.top_candidates(items, ratings, 30), disk.top_candidates(items, ratings, 30)):
            assert np.array_equal(a, b)                                   # through the index (re-rank)
        lm, ld = UserRecommendations(mem, u), UserRecommendations(disk, u)
        cm, cd = lm.candidates(), ld.candidates()
        for f in ("items", "scores", "vectors", "genres", "contrib"):
            assert np.array_equal(getattr(cm, f), getattr(cd, f)), f
        for method in ("mmr", "dpp"):
            for t in (0.0, 0.5, 1.0):
                a, b = lm.rerank(t, method, 10), ld.rerank(t, method, 10)
                assert [(r.item, r.score, r.gain, r.explanation) for r in a.rows] == \
                       [(r.item, r.score, r.gain, r.explanation) for r in b.rows]
                assert a.metrics == b.metrics
        listed = [r.item for r in lm.rerank(0.3, "mmr", 10).rows]
        assert np.array_equal(lm.similarity(listed), ld.similarity(listed))      # the heatmap
        lm.dislike(listed[0]), ld.dislike(listed[0])                              # neighbours: full product
        assert [r.item for r in lm.rerank(0.0).rows] == [r.item for r in ld.rerank(0.0).rows]
    mem.use_index = disk.use_index = False                                         # exact full scoring
    for u in users:
        items, ratings = mem.history(u)
        for a, b in zip(mem.top_candidates(items, ratings, 30), disk.top_candidates(items, ratings, 30)):
            assert np.array_equal(a, b)
    assert evaluate(mem.model, mem.split) == evaluate(disk.model, disk.split)


def test_the_app_path_reads_rows_on_demand_only_for_a_large_indexed_catalogue(trained, monkeypatch):
    import engine.retrieval.index as index_mod
    from engine.explore.live_list import open_run_for_live
    from engine.runs.loaded import run_parts
    store, run_id = trained
    small = open_run_for_live(*run_parts(store, run_id))           # 120 items: below ANN_MIN_ITEMS
    assert isinstance(small.model.item_vectors(), np.ndarray)
    monkeypatch.setattr(index_mod, "ANN_MIN_ITEMS", 100)
    large = open_run_for_live(*run_parts(store, run_id))
    assert isinstance(large.model.item_vectors(), NpyRows) and large.index is not None
    (large.directory / "index.faiss").rename(large.directory / "index.faiss.away")   # no index: in memory
    try:
        assert isinstance(open_run_for_live(*run_parts(store, run_id)).model.item_vectors(), np.ndarray)
    finally:
        (large.directory / "index.faiss.away").rename(large.directory / "index.faiss")


def test_old_and_compressed_model_files_still_load(trained, tmp_path):
    import shutil

    from engine.models.lstm.model import LSTMRecommender
    from engine.runs.loaded import load_run
    store, run_id = trained
    run = load_run(store, run_id)
    x = run.model.item_vectors()
    old = tmp_path / "old"
    shutil.copytree(run.directory, old)
    with np.load(old / "model.npz") as z:          # a run from before id_index, written compressed
        arrays = {k: z[k] for k in z.files if k != "id_index"}
    np.savez_compressed(old / "model.npz", **arrays)
    assert NpyRows.open(old / "model.npz", "item_matrix") is None
    m = LSTMRecommender.load(old, rows_on_demand=True)
    assert isinstance(m.item_matrix, np.ndarray) and np.array_equal(m.item_matrix, x) and m.id_index is None
    np.savez(old / "model.npz", **arrays)            # the same, uncompressed (np.savez, as runs always were)
    m = LSTMRecommender.load(old, rows_on_demand=True)
    assert isinstance(m.item_matrix, NpyRows) and np.array_equal(np.asarray(m.item_matrix), x)
    again = tmp_path / "again"                       # an on-demand model saves its vectors whole
    m.save(again)
    assert np.array_equal(LSTMRecommender.load(again).item_matrix, x)
    import pickle
    assert np.array_equal(pickle.loads(pickle.dumps(m.item_matrix))[3], x[3])


def test_non_finite_values_are_found_block_by_block(tmp_path, monkeypatch):
    import engine.retrieval.vector_rows as vr
    monkeypatch.setattr(vr, "BLOCK", 16)
    x = np.ones((100, 8), np.float32)
    np.savez(tmp_path / "ok.npz", item_matrix=x, other=np.arange(3.0))
    assert npz_nonfinite(tmp_path / "ok.npz") is None
    x[77, 5] = np.inf
    np.savez(tmp_path / "bad.npz", other=np.arange(3.0), item_matrix=x)
    assert npz_nonfinite(tmp_path / "bad.npz") == "item_matrix"
    np.savez_compressed(tmp_path / "badz.npz", item_matrix=x)
    assert npz_nonfinite(tmp_path / "badz.npz") == "item_matrix"


def test_a_pick_through_the_index_reads_a_few_hundred_rows(tmp_path):
    """20,000 items: a pick reads the history, the index's short list and the listed rows, each once."""
    from engine.data.dataset import load_dataset
    from engine.data.demo_stream import write_scaled_demo
    from engine.explore.live_list import UserRecommendations
    from engine.explore.rerank import POOL_WIDEN
    from engine.retrieval.index import IndexParams
    from engine.runs.indexing import build_run_index
    from engine.runs.loaded import run_from_parts, run_parts
    from engine.runs.saving import save_and_register
    from engine.store import open_store
    from tests.engine.test_index_quantize import numpy_lstm
    store = open_store(str(tmp_path / "big.db"))
    try:
        write_scaled_demo(store, "big", n_users=300, n_items=20_000, n_interactions=6000)
        ds = load_dataset(store, "big")
        run_id = save_and_register(store, dataset=ds, model=numpy_lstm(ds.n_items), objective="softmax",
                                   config={}, holdout=False, device="cpu", device_name="cpu", seconds=0.0,
                                   metrics={}, epochs=[])
        build_run_index(store, run_id, params=IndexParams(nprobe=8), force=True)
        run = run_from_parts(*run_parts(store, run_id), rows_on_demand=True)
        rows = run.model.item_vectors()
        refine = run.index.params.refine
        users = np.argsort(-np.bincount(ds.user_idx, minlength=ds.n_users))[:5]
        for u in users:
            before = (rows.rows_read, rows.bytes_read)
            live = UserRecommendations(run, int(u))
            pool = live.candidates()
            live.rerank(0.5, "mmr", 10)
            read = rows.rows_read - before[0]
            history = len(np.unique(live.history()[0]))
            asked = POOL_WIDEN * live.n_candidates + history   # top_candidates' n (the slider's pool) + the history
            # the query (history rows, padding row 0), the re-rank of refine x asked, the pool's rows, and
            # the pool's and the history's rows for the explanations
            bound = (history + 1) + refine * asked + len(pool.items) + (len(pool.items) + history)
            assert 0 < read <= bound < ds.n_items / 4      # a pool of 400: an eighth of these 20,000 items
            assert rows.bytes_read - before[1] == read * rows.row_bytes
            assert live.rerank(0.8, "mmr", 10) and rows.rows_read - before[0] == read   # the slider reads nothing
        before, items = rows.rows_read, run.history(int(users[0]))[0]
        assert len(items) >= 8
        run.model.score(items)                # full scoring: the last 8 history rows, then the file once
        assert rows.rows_read - before == len(np.unique(items[-8:])) + ds.n_items
    finally:
        store.close()
