"""The accuracy-diversity frontier on the demo data: trade-off 0 reproduces the model's own
evaluation, trade-off 1 is clearly more diverse for MMR and DPP; and the `llmrec frontier` CLI."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from engine.cli.main import main
from engine.data.dataset import load_dataset
from engine.data.demo import DEMO_NAME, create_demo_dataset
from engine.data.split import time_split
from engine.errors import EngineError
from engine.evaluation.protocol import list_metrics, rank_users
from engine.explore.frontier import frontier, to_table
from engine.models.ease import EASERecommender
from engine.runs.baselines import fit_baseline
from engine.runs.loaded import LoadedRun
from engine.types import RunInfo

USERS = 250


@pytest.fixture(scope="module")
def demo_run(demo_store):
    ds = load_dataset(demo_store, DEMO_NAME)
    split = time_split(ds)
    model = EASERecommender()
    model.fit(split.train)
    info = RunInfo(0, ds.info.id, ds.info.name, "ease", None, True, "cpu", "CPU", None, {}, {}, None, None)
    return LoadedRun(info=info, dataset=ds, model=model, split=split)


@pytest.mark.parametrize("method", ["mmr", "dpp"])
def test_frontier_on_demo(demo_run, method):
    seen = []
    rows = frontier(demo_run, method, points=3, max_users=USERS, progress=seen.append)
    assert [r["tradeoff"] for r in rows] == [0.0, 0.5, 1.0]
    assert seen and seen[-1].done == seen[-1].total
    # trade-off 0 is the model's own top-10: the same numbers evaluate() reports
    split = demo_run.split
    sub = type(split)(split.train, split.test_users[:USERS], split.test_items[:USERS], _histories=split.histories)
    plain = list_metrics(rank_users(demo_run.model, sub, 10), sub, ks=(10,),
                         model_vectors=demo_run.model.item_vectors())
    for key in ("ndcg@10", "recall@10", "ild_genre@10", "ild_model@10", "coverage@10", "novelty@10"):
        assert rows[0][key] == pytest.approx(plain[key], rel=1e-6), key
    assert rows[0]["promoted@10"] == 0
    # trade-off 1 is clearly more diverse in both spaces, and costs accuracy
    assert rows[-1]["ild_genre@10"] > rows[0]["ild_genre@10"] + 0.15
    assert rows[-1]["ild_model@10"] > rows[0]["ild_model@10"] + 0.05
    assert rows[-1]["ndcg@10"] < rows[0]["ndcg@10"]
    assert "ndcg@10" in to_table(rows)


def test_frontier_needs_a_holdout(demo_run):
    from engine.errors import EngineError
    no_split = LoadedRun(demo_run.info, demo_run.dataset, demo_run.model, None)
    with pytest.raises(EngineError, match="holdout"):
        frontier(no_split)


def test_frontier_cli(tmp_path, capsys):
    from engine.store import open_store
    db = str(tmp_path / "cli.db")
    store = open_store(db)
    create_demo_dataset(store, "small", n_items=300, n_users=200)
    run_id = fit_baseline(store, "small", "itemknn")
    store.close()
    out_csv = tmp_path / "frontier.csv"
    assert main(["--db", db, "frontier", "--run", str(run_id), "--method", "dpp", "--points", "3",
                 "--csv", str(out_csv), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["method"] == "dpp" and len(data["rows"]) == 3
    with out_csv.open() as f:
        table = list(csv.DictReader(f))
    assert [float(r["tradeoff"]) for r in table] == [0.0, 0.5, 1.0]
    assert np.isclose(float(table[0]["ndcg@10"]), data["rows"][0]["ndcg@10"])
    assert main(["--db", db, "frontier", "--run", "999"]) == 2


def test_compact_keeps_cosines_and_skips_narrow_spaces(monkeypatch):
    """A wide space (TF-IDF, EASE) shrinks to N x N with the same Gram matrix; a model's 128 dimensions
    for 100 candidates are kept as they are (no N x N eigendecomposition on every pick)."""
    from engine.explore import rerank_space as fr
    rng = np.random.default_rng(0)
    wide = rng.normal(size=(30, 500)).astype(np.float32)
    small = fr.compact(wide)
    assert small.shape == (30, 30)
    np.testing.assert_allclose(small @ small.T, wide @ wide.T, rtol=1e-3, atol=1e-2)
    calls = []
    monkeypatch.setattr(fr.np.linalg, "eigh", lambda m: calls.append(m.shape))
    narrow = rng.normal(size=(100, 128)).astype(np.float32)
    assert np.array_equal(fr.compact(narrow), narrow) and calls == []


def test_cached_frontier_is_kept_in_the_run_folder(demo_run, tmp_path, monkeypatch):
    """Issue 22 (opening a run is slow): the same sweep of the same run is read back from the run's folder;
    other settings, or a dataset of another size, sweep again; a read-only folder still gets its rows."""
    from engine.explore import frontier as F
    calls = []
    real = F.frontier
    monkeypatch.setattr(F, "frontier", lambda *a, **kw: (calls.append(a[1]), real(*a, **kw))[1])
    monkeypatch.setattr(demo_run, "directory", tmp_path)
    first = F.cached_frontier(demo_run, "mmr", 3, max_users=60)
    again = F.cached_frontier(demo_run, "mmr", 3, max_users=60)
    assert again == first and calls == ["mmr"]                       # read back, not swept again
    assert len(list((tmp_path / F.FRONTIER_CACHE).glob("*.json"))) == 1
    F.cached_frontier(demo_run, "dpp", 3, max_users=60)
    assert calls == ["mmr", "dpp"]
    def refuse(*_a):
        raise PermissionError("read-only")
    monkeypatch.setattr(F.os, "replace", refuse)                     # a folder it may not write in
    rows = F.cached_frontier(demo_run, "mmr", 4, max_users=60)       # not cached, not writable: still its rows
    assert len(rows) == 4 and calls[-1] == "mmr"


def test_rerank_spaces_in_the_frontier(demo_run):
    """Issue 24: the frontier re-ranks in any space; the categories space is the genres' cosine, and the
    two user halves split the evaluated users without overlap."""
    from engine.explore.frontier import user_part
    from engine.explore.rerank_space import available_spaces, pool_vectors
    from engine.explore.similarity import genre_matrix
    ds = demo_run.dataset
    assert available_spaces(ds, demo_run.model)[:2] == ["model", "categories"]
    items = np.arange(12)
    v = pool_vectors("categories", items, dataset=ds, model=demo_run.model)
    g = np.asarray(genre_matrix(ds)[items], dtype=np.float64)
    g /= np.linalg.norm(g, axis=1, keepdims=True)
    np.testing.assert_allclose(v @ v.T, g @ g.T, atol=1e-5)
    split = demo_run.evaluation_split(USERS)
    sel, rep = user_part(split, "selection"), user_part(split, "report")
    assert len(sel.test_users) + len(rep.test_users) == len(split.test_users)
    assert not set(sel.test_users.tolist()) & set(rep.test_users.tolist())
    by_space = {s: frontier(demo_run, "ild", points=2, max_users=USERS, space=s) for s in ("model", "categories")}
    assert [r["space"] for r in by_space["categories"]] == ["categories"] * 2
    assert by_space["model"][0]["ndcg@10"] == by_space["categories"][0]["ndcg@10"]     # t = 0: the same list
    # diversity in the categories space is what category ILD measures: it reaches more of it
    assert by_space["categories"][1]["ild_genre@10"] > by_space["model"][1]["ild_genre@10"]


def test_attainable_area_and_the_choice(demo_run, tmp_path, monkeypatch):
    from engine.explore import space_choice as C
    rows = [{"ndcg@10": 0.2, "ild_genre@10": 0.5}, {"ndcg@10": 0.1, "ild_genre@10": 0.9}]
    # x in (0.5, 0.9]: best NDCG with ILD >= x is 0.1 -> 0.4 * 0.1; above 0.9 nothing reaches it
    assert C.attainable_area(rows) == pytest.approx(0.04)
    assert C.attainable_area(rows + [{"ndcg@10": 0.15, "ild_genre@10": 0.95}]) == pytest.approx(0.4 * 0.15 + 0.05 * 0.15)
    monkeypatch.setattr(demo_run, "directory", tmp_path)
    choice = C.choose_space(demo_run, "mmr", points=3, max_users=USERS, spaces=["model", "categories", "text"])
    assert set(choice.areas) == {"model", "categories", "text"}
    assert choice.space == max(choice.areas, key=choice.areas.get)
    selection = len(frontier_users(demo_run, "selection"))
    assert choice.n_users == selection < len(demo_run.evaluation_split(USERS).test_users)
    swept = []
    monkeypatch.setattr(C, "cached_frontier", lambda *a, **k: swept.append(a) or [])
    assert C.choose_space(demo_run, "mmr", points=3, max_users=USERS, spaces=["model"]).space == "model"
    assert len(swept) == 1


def frontier_users(run, part):
    from engine.explore.frontier import user_part
    return user_part(run.evaluation_split(USERS), part).test_users


def test_live_list_rerank_space(demo_run):
    """The slider's space can change without re-scoring the user, and a list re-ranked over categories
    is more diverse by category than the plain one."""
    from engine.explore.live_list import UserRecommendations
    view = UserRecommendations(demo_run, demo_run.default_user(), rerank_space="categories")
    plain = view.rerank(0.0, "ild", 10)
    diverse = view.rerank(0.8, "ild", 10)
    assert diverse.metrics.space == "categories" and diverse.metrics.ild_genre > plain.metrics.ild_genre
    scored = view.candidates()
    view.set_rerank_space("model")
    assert view.candidates().items is scored.items and view.candidates().space == "model"
    with pytest.raises(EngineError):
        view.set_rerank_space("colours")
