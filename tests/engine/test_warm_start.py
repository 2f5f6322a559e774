"""Warm start and fold-in after `import --append`, for both item-text inputs (the text LSTM and the
MiniLM encoder's vectors): real TensorFlow on tiny data, no tuning."""
from __future__ import annotations

import numpy as np
import pytest

from engine.cli.main import main

pytestmark = pytest.mark.slow   # TensorFlow training: the full tier only (`pytest -m "not slow"` skips it)

TINY = dict(epochs=1, batch_size=64, embedding_dim=16, text_dim=8, text_units=16, user_units=16, max_len=8,
            learning_rate=0.01, temperature=0.1, device="cpu", patience=0, refit=False, tune=False)
TITLES = [("Galaxy Starship", "Sci-Fi"), ("Haunting Cellar", "Horror"), ("Wedding Prank", "Comedy"),
          ("Outlaw Saloon", "Western"), ("Heist Alibi", "Crime"), ("Dragon Crown", "Fantasy")]


@pytest.fixture(scope="module", params=["lstm", "minilm"])
def grown(request, tmp_path_factory):
    """A run trained on 300 items, then 6 new items and a new user appended: (store, run id, db path)."""
    from engine.data.dataset import load_dataset
    from engine.data.demo_stream import write_scaled_demo
    from engine.ingest.append import append_files
    from engine.runs.training import TrainConfig, run_training
    from engine.store import open_store
    tmp = tmp_path_factory.mktemp(f"grow-{request.param}")
    db = str(tmp / "grow.db")
    store = open_store(db)
    write_scaled_demo(store, "grow", n_users=120, n_items=300, n_interactions=3000)
    run_id = run_training(TrainConfig(dataset="grow", **TINY, extra={"max_tokens": 500,
                                                                   "text_encoder": request.param}), store).run_id
    ds0 = load_dataset(store, "grow")
    lines = ["user,item,rating,timestamp"] + [f"{ds0.user_ids[u]},new{j},5,{2_000_000_000 + j}"
                                              for j in range(6) for u in range(3)]
    lines += [f"newcomer,new{j},5,{2_000_000_100 + j}" for j in range(3)]
    lines += [f"newcomer,{ds0.item_ids[i]},5,{2_000_000_200 + i}" for i in range(3)]
    (tmp / "new.csv").write_text("\n".join(lines) + "\n")
    (tmp / "new_items.csv").write_text("item,title,genres\n" + "".join(f"new{j},{t},{g}\n"
                                                                      for j, (t, g) in enumerate(TITLES)))
    append_files(store, [str(tmp / "new.csv"), str(tmp / "new_items.csv")], "grow", on_unknown_item="drop")
    yield store, run_id, db, request.param
    store.close()


def test_warm_start_begins_exactly_where_the_parent_and_fold_in_leave_off(grown):
    """Before any step, the warm-started towers give every old item the parent's vector and every new
    item its fold-in vector (new id rows start as the cold-start row)."""
    from engine.data.split import time_split
    from engine.models.lstm.model import LSTMRecommender
    from engine.models.lstm.warm import WarmStart
    from engine.runs.foldin import encode_item_texts
    from engine.runs.loaded import load_run, run_path
    store, run_id, _, _ = grown
    parent = load_run(store, run_id)
    directory = run_path(store, parent.info)
    ds = parent.dataset                                       # the grown dataset (306 items)
    assert ds.n_items == 306 and parent.model.n_items == 300
    model = LSTMRecommender(**{**parent.model.params(), "epochs": 0, "tune": False, "patience": 0, "refit": False})
    model.warm_start = WarmStart.from_run_dir(directory, run_id)
    model.fit(time_split(ds).train)
    assert model.item_matrix.shape[0] == 306 and model.id_index[:301].tolist() == parent.model.id_index.tolist()
    assert model.id_index[301:].max() > parent.model.id_index.max()          # the new items got their own rows
    np.testing.assert_allclose(model.item_matrix[:300], parent.model.item_vectors(), atol=1e-5)
    folded = encode_item_texts(directory, [ds.item_text(i) for i in range(300, 306)])
    np.testing.assert_allclose(model.item_matrix[300:], folded, atol=1e-5)


def test_train_warm_start_from_the_cli_is_a_new_run_pointing_at_its_parent(grown, capsys):
    import json

    from engine.runs.loaded import load_run
    store, run_id, db, encoder = grown
    assert main(["--db", db, "train", "--warm-start", str(run_id), "--epochs", "1", "--device", "cpu",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    new = load_run(store, out["run_id"])
    assert new.info.config["warm_start"] == run_id and new.info.config["text_encoder"] == encoder
    assert new.model.n_items == 306 and len(new.model.epochs) == 1 and np.isfinite(new.model.epochs[0]["loss"])
    assert new.info.holdout and out["metrics"]["ndcg@10"] >= 0
    parent = load_run(store, run_id).model.item_vectors()
    assert not np.allclose(new.model.item_vectors()[:300], parent, atol=1e-4)     # it trained
    newcomer = list(new.dataset.user_ids).index("newcomer")
    assert len(new.recommend(newcomer, 10)[0]) == 10
    assert main(["--db", db, "train", "--warm-start", "999"]) != 0
    assert "999" in capsys.readouterr().err


@pytest.mark.parametrize("grown", ["minilm"], indirect=True)   # text-LSTM fold-in: test_append_foldin
def test_fold_in_of_a_minilm_run_projects_the_encoder_vectors(grown, tmp_path):
    """MiniLM runs fold in too: the item tower's projection of the new items' encoder vectors, read
    from the catalogue cache when it holds them."""
    store, run_id, _, encoder = grown
    assert encoder == "minilm"
    from engine.encoder import load_encoder
    from engine.encoder.catalogue import _write_cache, cache_path, text_hashes
    from engine.encoder.static import load_static_encoder
    from engine.runs.foldin import encode_item_texts, fold_in_items
    from engine.runs.loaded import load_run, run_path
    old = load_run(store, run_id)
    ds, directory = old.dataset, run_path(store, old.info)
    # a cold item of the run (no id row) gets exactly its trained vector from the text alone
    cold = np.flatnonzero(old.model.id_index[1:301] == 0)[:4]
    if len(cold):
        got = encode_item_texts(directory, [ds.item_text(int(i)) for i in cold])
        np.testing.assert_allclose(got, old.model.item_vectors()[cold], atol=1e-5)
    texts = [ds.item_text(i) for i in range(300, 306)]
    expected = encode_item_texts(directory, texts, text_vectors=load_encoder("keras").encode(texts, 64))
    new = load_run(store, fold_in_items(store, run_id))
    assert new.model.n_items == 306 and new.info.config["folded_items"] == 6
    np.testing.assert_allclose(new.model.item_vectors()[:300], old.model.item_vectors(), atol=0)
    np.testing.assert_allclose(new.model.item_vectors()[300:], expected, atol=1e-4)
    assert new.model.id_index[301:].tolist() == [0] * 6
    # with the catalogue cache holding other vectors for these texts, fold-in reads the cache
    static = load_static_encoder().encode([ds.item_text(i) for i in range(ds.n_items)])
    _write_cache(cache_path(store, ds.info.id), text_hashes(ds), static)
    cached = load_run(store, fold_in_items(store, run_id)).model.item_vectors()[300:]
    np.testing.assert_allclose(cached, encode_item_texts(directory, texts, text_vectors=static[300:]), atol=1e-5)
    assert not np.allclose(cached, expected, atol=1e-3)
