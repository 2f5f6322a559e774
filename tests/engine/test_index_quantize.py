"""ANN candidate retrieval (faiss HNSW) and int8 item vectors, at small scale through the same code
paths as at a million items: `llmrec index`, recommend/explore from the index, `llmrec quantize`.
The two-tower model here has random numpy weights (no TensorFlow): what is tested is retrieval and
storage, not learning."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine.cli.main import main
from engine.explore.rerank import POOL_WIDEN
from engine.retrieval.index import IndexParams, ItemIndex, auto_nlist, build_index, exact_search, index_info, recall
from engine.retrieval.quantize import QuantizedVectors


def numpy_lstm(n_items: int, d: int = 16, units: int = 8, seed: int = 0):
    """An LSTMRecommender with random weights, usable for scoring without training."""
    from engine.models.lstm.model import LSTMRecommender
    from engine.models.lstm.numpy_tower import NumpyUserTower, l2_normalize
    rng = np.random.default_rng(seed)
    m = LSTMRecommender(embedding_dim=d, user_units=units, max_len=8)
    centres = rng.normal(size=(12, d))
    m.item_matrix = l2_normalize((centres[rng.integers(0, 12, n_items)] + 0.6 * rng.normal(size=(n_items, d)))
                                 .astype(np.float32))
    f = np.float32
    m.user_tower = NumpyUserTower(rng.normal(0, 0.3, (d + 2, 4 * units)).astype(f),
                                  rng.normal(0, 0.3, (units, 4 * units)).astype(f), np.zeros(4 * units, f),
                                  rng.normal(0, 1, (units, d)).astype(f), np.zeros(d, f))
    m.rating_range = (1.0, 5.0)
    return m


def clustered(n: int, d: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(64, d))[rng.integers(0, 64, n)] + 0.5 * rng.normal(size=(n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("kind", ["ivf-sq8", "ivf"])
def test_ivf_tunes_nprobe_to_the_recall_target_against_exact_search(tmp_path, kind):
    x = clustered(6000, 32)
    q = clustered(40, 32, seed=2)
    exact_ids, exact_sims = exact_search(x, q, 100, chunk=1000)      # chunked merge == brute force
    brute = np.argsort(-(q @ x.T), axis=1, kind="stable")[:, :100]
    assert recall(exact_ids, brute) == 1.0
    assert np.all(np.diff(exact_sims, axis=1) <= 1e-6)
    steps = []
    index = build_index(x, IndexParams(kind=kind), queries=q, progress=steps.append, chunk=2000)
    assert index.n_items == 6000 and index.params.kind == kind and index.params.nlist == auto_nlist(6000) == 153
    assert [s.done for s in steps if s.stage == "indexing items"] == [2000, 4000, 6000]
    curve = index.tuning["recall_by_nprobe"]                          # powers of two up to the first >= 0.98
    probes = [int(p) for p in curve]
    assert probes == [2 ** i for i in range(len(probes))] and probes[-1] == index.params.nprobe
    assert curve[str(index.params.nprobe)] >= 0.98 and all(r < 0.98 for r in list(curve.values())[:-1])
    assert 1 < index.params.nprobe < index.params.nlist                 # a real trade-off, not a full scan
    ids, _ = index.search(q, 100)
    assert recall(ids, exact_ids) >= 0.98
    index.save(tmp_path)                                              # nprobe and the curve travel with the file
    again = ItemIndex.load(tmp_path, vectors=x)
    assert again.params == index.params and again.tuning == index.tuning
    assert np.array_equal(again.search(q, 100)[0], ids)
    info = index_info(tmp_path)
    assert info["kind"] == kind and info["nprobe"] == index.params.nprobe and info["recall"] >= 0.98
    assert f"nprobe {index.params.nprobe}" in info["summary"] and index_info(tmp_path / "none") is None
    index.add(clustered(10, 32, seed=3))                              # new items: rows continue the numbering
    ids, _ = index.search(clustered(10, 32, seed=3)[:1], 1)
    assert ids[0, 0] == 6000
    few = build_index(x[:600], IndexParams(kind=kind, nprobe=1))      # 15 lists of ~40: one list < k
    ids, _ = few.search(q, 300)
    assert few.params.nlist == 15 and (ids >= 0).all() and all(len(set(r)) == 300 for r in ids)
    assert few.index.nprobe == 1                                      # probing more was for those queries only


def test_sq8_codes_are_re_ranked_exactly_against_the_item_vectors(tmp_path, monkeypatch):
    """The short list read from 8-bit codes is re-ranked by exact inner products with the run's vectors;
    without the vectors (a loaded index nobody attached them to) the codes' own order is used."""
    import faiss
    x = clustered(4000, 32)
    q = clustered(30, 32, seed=2)
    index = build_index(x, IndexParams(kind="ivf-sq8", nprobe=8), queries=q)
    assert isinstance(index.index, faiss.IndexIVFScalarQuantizer) and index.vectors is x
    ids, sims = index.search(q, 50)
    exact = np.einsum("bkd,bd->bk", x[ids], q)
    np.testing.assert_allclose(sims, exact, rtol=1e-5, atol=1e-6)     # the exact similarities, best first
    assert np.all(np.diff(sims, axis=1) <= 0)
    index.save(tmp_path)
    bare = ItemIndex.load(tmp_path)
    assert bare.params.kind == "ivf-sq8" and bare.vectors is None
    b_ids, b_sims = bare.search(q, 50)
    assert not np.allclose(b_sims, np.einsum("bkd,bd->bk", x[b_ids], q), atol=1e-6)   # code similarities
    assert recall(b_ids, ids) >= 0.9
    before, calls = faiss.omp_get_max_threads(), []
    real = faiss.omp_set_num_threads
    monkeypatch.setattr(faiss, "omp_set_num_threads", lambda n: calls.append(n) or real(n))
    index.search(q[:1], 10)                                           # one query: one OpenMP thread, then restored
    index.search(q, 10)                                               # a batch: the caller's threads
    assert calls == [1, before] and faiss.omp_get_max_threads() == before


def test_hnsw_stays_available_and_loadable(tmp_path):
    x = clustered(3000, 32)
    q = clustered(20, 32, seed=2)
    index = build_index(x, IndexParams(kind="hnsw"))
    exact_ids, _ = exact_search(x, q, 50)
    assert recall(index.search(q, 50)[0], exact_ids) >= 0.95
    index.save(tmp_path)
    assert ItemIndex.load(tmp_path).params.kind == "hnsw"


def test_int8_vectors_are_a_quarter_and_rank_alike():
    x = clustered(3000, 64)
    q = QuantizedVectors.from_float(x)
    assert q.nbytes <= x.nbytes / 4 + 4 * len(x) and q.shape == x.shape and len(q) == 3000
    err = np.abs(q[np.arange(3000)] - x).max(axis=1)
    assert np.all(err <= q.scales / 2 + 1e-7)                         # within half a step per component
    u = clustered(5, 64, seed=4)
    np.testing.assert_allclose(u @ q.T, u @ x.T, atol=0.02)           # scoring product, block by block
    np.testing.assert_allclose(q @ x[7], x @ x[7], atol=0.02)
    top_f = np.argsort(-(u @ x.T), axis=1)[:, :10]
    top_q = np.argsort(-(u @ q.T), axis=1)[:, :10]
    assert np.mean([len(np.intersect1d(a, b)) for a, b in zip(top_f, top_q)]) >= 9
    assert np.asarray(q).dtype == np.float32 and q[[1, 2], :3].shape == (2, 3)


@pytest.fixture
def run_db(tmp_path):
    """A scaled-demo dataset with a registered two-tower run (random weights) with holdout metrics."""
    from engine.data.dataset import load_dataset
    from engine.data.demo_stream import write_scaled_demo
    from engine.data.split import time_split
    from engine.evaluation.protocol import evaluate
    from engine.runs.saving import save_and_register
    from engine.store import open_store
    db = str(tmp_path / "scale.db")
    store = open_store(db)
    write_scaled_demo(store, "scaled", n_users=250, n_items=900, n_interactions=6000)
    ds = load_dataset(store, "scaled")
    model = numpy_lstm(ds.n_items)
    metrics = evaluate(model, time_split(ds))
    run_id = save_and_register(store, dataset=ds, model=model, objective="softmax", config={}, holdout=True,
                               device="cpu", device_name="cpu", seconds=0.0, metrics=metrics, epochs=[])
    store.close()
    return db, run_id


def test_index_is_built_saved_and_used_by_recommend_and_explore(run_db, capsys, tmp_path):
    from engine.explore.live_list import UserRecommendations
    from engine.runs.loaded import load_run
    from engine.store import open_store
    db, run_id = run_db
    assert main(["--db", db, "index", "--run", str(run_id)]) == 2     # small catalogue: exact unless --force
    assert "--force" in capsys.readouterr().err
    assert main(["--db", db, "index", "--run", str(run_id), "--force", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["index"].endswith("index.faiss")

    store = open_store(db)
    try:
        run = load_run(store, run_id)
        exact = load_run(store, run_id)
        exact.use_index = False
        assert run.index is not None and run.index.n_items == 900 and exact.index is None
        users = np.asarray(run.split.test_users[:30])
        run.model.score = exact.model.score = None                    # the index path never scores everything...
        with pytest.raises(TypeError):
            exact.recommend(int(users[0]), 10)                        # ...while the exact path does
        exact = load_run(store, run_id)
        exact.use_index = False
        for u in users:
            got, got_s = run.recommend(int(u), 10)
            want, want_s = exact.recommend(int(u), 10)
            assert len(np.intersect1d(got, want)) >= 9
            assert not np.isin(got, run.history(int(u))[0]).any()    # seen items stay out
            np.testing.assert_allclose(got_s[:3], want_s[:3], rtol=1e-4)
        many, _ = run.recommend_many(users, 10)
        assert np.mean([len(np.intersect1d(a, exact.recommend(int(u), 10)[0])) for a, u in zip(many, users)]) >= 9.5
        live = UserRecommendations(run, int(users[0]), store)
        pool = live.candidates()
        assert len(pool.items) == 100 * POOL_WIDEN           # the slider's pool (engine.explore.rerank)
        assert len(np.intersect1d(pool.items[:10], exact.recommend(int(users[0]), 10)[0])) >= 9
        assert len(live.rerank(0.5, "mmr", 10).rows) == 10
    finally:
        store.close()
    out = tmp_path / "recs.csv"
    assert main(["--db", db, "recommend", "--run", str(run_id), "--k", "5", "--out", str(out)]) == 0
    assert len(out.read_text().splitlines()) == 1 + 5 * 250


def test_quantize_run_keeps_ndcg_in_a_quarter_of_the_memory(run_db, capsys):
    from engine.runs.loaded import load_run, run_path
    from engine.store import open_store
    db, run_id = run_db
    assert main(["--db", db, "quantize", "--run", str(run_id), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    new_id = out["run_id"]
    assert new_id != run_id
    assert out["ndcg@10"] == pytest.approx(out["float32_ndcg@10"], rel=0.05, abs=0.005)
    store = open_store(db)
    try:
        q, f = load_run(store, new_id), load_run(store, run_id)
        assert isinstance(q.model.item_vectors(), QuantizedVectors)
        assert q.info.config["item_vectors"] == "int8" and q.info.config["quantized_from"] == run_id
        assert q.model.item_vectors().nbytes == 900 * (16 + 4) and f.model.item_vectors().nbytes == 900 * 16 * 4
        with np.load(run_path(store, q.info) / "model.npz") as z:
            assert "item_codes" in z.files and "item_matrix" not in z.files
        u = int(q.split.test_users[0])
        assert len(np.intersect1d(q.recommend(u, 10)[0], f.recommend(u, 10)[0])) >= 8
        from engine.explore.similarity import nearest_items
        idx, sims = nearest_items([0], "model", dataset=q.dataset, model=q.model, n=5)
        assert idx.shape == (1, 5) and 0 not in idx[0]
    finally:
        store.close()
