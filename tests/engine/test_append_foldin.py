"""Incremental data and models: `llmrec import --append` keeps every existing id, and `llmrec fold-in`
gives items added after training vectors from their text through the run's own item tower (real
TensorFlow on a tiny model), extending the run's ANN index in place."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine.cli.main import main
from tests.conftest import db_dump

pytestmark = pytest.mark.slow   # TensorFlow training for the fold-in: the full tier only (`pytest -m "not slow"` skips it)


def _write(path, text):
    path.write_text(text)
    return str(path)


@pytest.fixture
def base_db(tmp_path, capsys):
    db = str(tmp_path / "a.db")
    r = _write(tmp_path / "ratings.csv", "user,item,rating,timestamp\nu1,i1,4,100\nu1,i2,3,200\nu2,i1,5,150\n")
    it = _write(tmp_path / "items.csv", "item,title,genres\ni1,One,Drama\ni2,Two,Comedy\n")
    assert main(["--db", db, "import", r, it, "--name", "shop", "--quiet"]) == 0
    capsys.readouterr()
    return db


def _ids(db):
    from engine.data.dataset import load_dataset
    from engine.store import open_store
    s = open_store(db)
    try:
        ds = load_dataset(s, "shop")
        rows = {(ds.user_ids[u], ds.item_ids[i]): (float(r), int(t))
                for u, i, r, t in zip(ds.user_idx, ds.item_idx, ds.rating, ds.timestamp)}
        return list(ds.user_ids), list(ds.item_ids), ds.titles, rows, ds.info
    finally:
        s.close()


def test_append_keeps_ids_adds_new_ones_and_keeps_the_later_event(base_db, tmp_path, capsys):
    users0, items0, _, _, _ = _ids(base_db)
    r = _write(tmp_path / "more.csv", "user,item,rating,timestamp\n"
               "u2,i3,4,300\nu3,i1,2,400\nu1,i2,5,500\nu1,i1,1,50\n")
    it = _write(tmp_path / "more_items.csv", "item,title,genres\ni1,Renamed,Drama\ni2,Two,Comedy\ni3,Three,War\n")
    assert main(["--db", base_db, "import", r, it, "--append", "shop", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["new_users"], out["new_items"], out["new_interactions"], out["updated_interactions"]) == (1, 1, 2, 1)
    users, items, titles, rows, info = _ids(base_db)
    assert users[:len(users0)] == users0 and items[:len(items0)] == items0      # existing ids unchanged
    assert users == ["u1", "u2", "u3"] and items == ["i1", "i2", "i3"]
    assert titles[0] == "One"                                                   # existing items keep their text
    assert rows[("u1", "i2")] == (5.0, 500)                                     # the later event wins
    assert rows[("u1", "i1")] == (4.0, 100)                                     # an earlier one does not
    assert rows[("u2", "i3")] == (4.0, 300) and rows[("u3", "i1")] == (2.0, 400)
    assert (info.n_users, info.n_items, info.n_interactions) == (3, 3, 5)
    assert main(["--db", base_db, "datasets", "--json"]) == 0
    assert [d["name"] for d in json.loads(capsys.readouterr().out)] == ["shop"]  # no staging dataset left


def test_a_failed_append_changes_nothing(base_db, tmp_path, capsys):
    from engine.store import open_store
    s = open_store(base_db)
    before = db_dump(s)
    s.close()
    implicit = _write(tmp_path / "clicks.csv", "user,item\nu9,i1\n")
    assert main(["--db", base_db, "import", implicit, "--append", "shop"]) == 2
    assert "cannot append implicit interactions" in capsys.readouterr().err
    bad = _write(tmp_path / "bad.csv", "user,item,rating\nu1,i1,4\nu1,i2,lots\n")
    assert main(["--db", base_db, "import", bad, "--append", "shop"]) == 2
    assert "line 3" in capsys.readouterr().err
    assert main(["--db", base_db, "import", bad, "--append", "nope"]) == 2
    s = open_store(base_db)
    try:
        assert db_dump(s) == before
    finally:
        s.close()


TINY = dict(epochs=1, batch_size=64, embedding_dim=16, text_dim=8, text_units=16, user_units=16, max_len=8,
            learning_rate=0.01, temperature=0.1, device="cpu", patience=0, refit=False, tune=False,
            extra={"max_tokens": 500, "text_encoder": "lstm"})


def test_fold_in_new_items_from_text_and_extend_the_index(store, tmp_path, monkeypatch):
    from engine.data.dataset import load_dataset
    from engine.data.demo_stream import write_scaled_demo
    from engine.ingest.append import append_files
    from engine.retrieval.index import ItemIndex
    from engine.runs.foldin import encode_item_texts, fold_in_items
    from engine.runs.indexing import build_run_index
    from engine.runs.loaded import load_run, run_path
    from engine.runs.training import TrainConfig, run_training
    write_scaled_demo(store, "grow", n_users=120, n_items=300, n_interactions=3000)
    run_id = run_training(TrainConfig(dataset="grow", **TINY), store).run_id
    build_run_index(store, run_id, force=True)
    old = load_run(store, run_id)
    ds0 = old.dataset

    # the item tower, text only, gives exactly the trained rows of items without an id embedding (cold)
    seen = np.unique(ds0.item_idx[ds0.positive_mask()])
    cold = np.setdiff1d(np.arange(ds0.n_items), seen)[:5]
    if len(cold):
        got = encode_item_texts(run_path(store, old.info), [ds0.item_text(int(i)) for i in cold])
        np.testing.assert_allclose(got, old.model.item_vectors()[cold], atol=1e-5)

    lines = ["user,item,rating,timestamp"] + [f"{ds0.user_ids[u]},new{j},5,{2_000_000_000 + j}"
                                              for j in range(6) for u in range(3)]
    r = _write(tmp_path / "new.csv", "\n".join(lines) + "\n")
    titles = [("Galaxy Starship", "Sci-Fi"), ("Haunting Cellar", "Horror"), ("Wedding Prank", "Comedy"),
              ("Outlaw Saloon", "Western"), ("Heist Alibi", "Crime"), ("Dragon Crown", "Fantasy")]
    it = _write(tmp_path / "new_items.csv", "item,title,genres\n" +
                "".join(f"new{j},{t},{g}\n" for j, (t, g) in enumerate(titles)))
    append_files(store, [r, it], "grow", on_unknown_item="drop")
    ds1 = load_dataset(store, "grow")
    assert ds1.n_items == 306 and list(ds1.item_ids[:300]) == list(ds0.item_ids)

    stale = load_run(store, run_id)                        # the old run ignores the new items...
    u = 0
    items, _ = stale.recommend(u, 10)
    assert len(items) == 10 and items.max() < 300
    runs_before = sorted(p.name for p in (store.artifact_root / "runs").iterdir())
    with monkeypatch.context() as m:                       # the extended index cannot be written (issue 19):
        def full_disk(self, directory):
            raise OSError(28, "No space left on device")
        m.setattr(ItemIndex, "save", full_disk)
        with pytest.raises(OSError, match="No space"):
            fold_in_items(store, run_id)
    from engine.store import repository as repo
    with store.session() as s:                             # no run without its index, no folder left
        assert [r.id for r in repo.list_runs(s)] == [run_id]
    assert sorted(p.name for p in (store.artifact_root / "runs").iterdir()) == runs_before
    new_id = fold_in_items(store, run_id)                  # ...until they are folded in
    new = load_run(store, new_id)
    assert new.model.n_items == 306 and new.info.config["folded_items"] == 6
    np.testing.assert_allclose(new.model.item_vectors()[:300], old.model.item_vectors(), atol=0)
    v = new.model.item_vectors()[300:]
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5) and not np.allclose(v[0], v[1])
    index = ItemIndex.load(run_path(store, new.info))
    assert index.n_items == 306 and ItemIndex.load(run_path(store, old.info)).n_items == 300
    # the new rows are found in the extended index (the tiny model's six new vectors are within 0.003 of
    # each other in cosine, below the 8-bit codes' resolution, so any of them may come first)
    ids, _ = index.search(v, 6)
    assert set(ids[:, 0].tolist()) <= set(range(300, 306)) and all(300 + j in ids[j] for j in range(6))
    assert new.index is not None and len(new.recommend(5, 10)[0]) == 10
