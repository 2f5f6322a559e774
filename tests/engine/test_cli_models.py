"""`llmrec train / runs / evaluate / recommend` end to end on a small demo database."""
from __future__ import annotations

import csv
import json

import pytest

from engine.cli.main import main
from engine.data.demo import create_demo_dataset
from engine.store import open_store

MINI = "mini"


@pytest.fixture
def db(tmp_path):
    path = str(tmp_path / "cli.db")
    s = open_store(path)
    create_demo_dataset(s, MINI, n_items=150, n_users=120, seed=5)
    s.close()
    return path


def _json_last(out: str):
    return json.loads(out.strip().splitlines()[-1])


def test_train_runs_evaluate_recommend(db, tmp_path, capsys):
    assert main(["train", "--db", db, "--dataset", MINI, "--model", "ease", "--json"]) == 0
    cap = capsys.readouterr()
    res = _json_last(cap.out)
    assert res["run_id"] >= 1 and res["metrics"]["ndcg@10"] is not None and res["seconds"] >= 0
    assert "100%" in cap.err                                  # the progress bar went to stderr
    run_id = res["run_id"]

    assert main(["runs", "--db", db, "--json"]) == 0
    runs = _json_last(capsys.readouterr().out)
    assert [(r["id"], r["model"], r["dataset"]) for r in runs] == [(run_id, "ease", MINI)]
    assert runs[0]["ndcg@10"] == pytest.approx(res["metrics"]["ndcg@10"]) and runs[0]["status"] == "done"

    assert main(["evaluate", "--db", db, "--run", str(run_id), "--json"]) == 0
    ev = _json_last(capsys.readouterr().out)
    assert set(ev["metrics"]) == {f"run {run_id} (ease)", "popularity", "itemknn", "ease", "als"}
    # the baselines fitted on the fly are registered: a second evaluate reuses them
    assert main(["runs", "--db", db, "--json"]) == 0
    n_runs = len(_json_last(capsys.readouterr().out))
    assert n_runs == 4
    assert main(["evaluate", "--db", db, "--run", str(run_id)]) == 0
    text = capsys.readouterr().out
    assert "ndcg@10" in text and "MostPopular" in text
    assert main(["runs", "--db", db, "--json"]) == 0
    assert len(_json_last(capsys.readouterr().out)) == n_runs

    out = tmp_path / "recs.csv"
    assert main(["recommend", "--db", db, "--run", str(run_id), "--k", "5", "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["user", "item", "rank", "score"]
    assert len({r["user"] for r in rows}) == 120 and len(rows) == 600
    assert rows[0]["user"].startswith("u") and rows[0]["item"].startswith("m")
    assert [r["rank"] for r in rows[:5]] == ["1", "2", "3", "4", "5"]
    # seen items excluded: compare with the dataset
    from engine.data.dataset import load_dataset
    s = open_store(db)
    ds = load_dataset(s, MINI)
    s.close()
    seen = {(ds.user_ids[u], ds.item_ids[i]) for u, i in zip(ds.user_idx, ds.item_idx)}
    assert not any((r["user"], r["item"]) in seen for r in rows)



def test_train_says_when_its_metrics_come_from_a_sample_of_users(db, capsys, monkeypatch):
    """Issue 21: above the scoring budget `train` scores a seeded random sample of the evaluated users and
    says so, with the counts (a 1M-item catalogue: 4,000 of 75,848 users instead of hours of scoring)."""
    from engine.data import split as split_mod
    monkeypatch.setattr(split_mod, "SCORED_CELLS", 150 * 10)         # room for 10 users x 150 items
    assert main(["train", "--db", db, "--dataset", MINI, "--model", "popularity"]) == 0
    out = capsys.readouterr().out
    assert "metrics from 10 of the " in out and "drawn at random (seed 0)" in out
    assert main(["train", "--db", db, "--dataset", MINI, "--model", "popularity", "--json"]) == 0
    metrics = _json_last(capsys.readouterr().out)["metrics"]
    assert metrics["n_users"] == 10
    assert metrics["split"]["evaluated_sample"] == 10 and metrics["split"]["evaluated_all"] > 10

def test_recommend_with_diversity_and_user_file(db, tmp_path, capsys):
    assert main(["train", "--db", db, "--dataset", MINI, "--model", "itemknn", "--json"]) == 0
    run_id = _json_last(capsys.readouterr().out)["run_id"]
    users = tmp_path / "users.txt"
    users.write_text("u00003\nu00007\n")
    plain, div = tmp_path / "plain.csv", tmp_path / "div.csv"
    assert main(["recommend", "--db", db, "--run", str(run_id), "--users", str(users), "--k", "10",
                 "--out", str(plain)]) == 0
    assert main(["recommend", "--db", db, "--run", str(run_id), "--users", str(users), "--k", "10",
                 "--out", str(div), "--diversity", "0.9", "--method", "mmr"]) == 0
    p = list(csv.DictReader(plain.open()))
    d = list(csv.DictReader(div.open()))
    assert {r["user"] for r in d} == {"u00003", "u00007"} and len(d) == 20
    assert [r["item"] for r in p] != [r["item"] for r in d]   # strong diversity changes the lists

    users.write_text("u00003\nnobody\n")
    assert main(["recommend", "--db", db, "--run", str(run_id), "--users", str(users), "--k", "3",
                 "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and "nobody" in err
    assert not (tmp_path / "x.csv").exists()


def test_recommend_space_and_the_chosen_default(db, tmp_path, capsys):
    """Issue 24: `recommend --space` re-ranks where asked; `auto` is the space `frontier --space all` chose."""
    assert main(["train", "--db", db, "--dataset", MINI, "--model", "ease", "--json"]) == 0
    run_id = _json_last(capsys.readouterr().out)["run_id"]
    assert main(["frontier", "--db", db, "--run", str(run_id), "--space", "all", "--points", "3", "--json"]) == 0
    swept = _json_last(capsys.readouterr().out)
    assert swept["chosen"] == max(swept["areas"], key=swept["areas"].get)
    assert {r["space"] for r in swept["rows"]} == set(swept["areas"]) >= {"model", "categories", "text"}
    lists = {}
    for space in dict.fromkeys(("categories", "model", swept["chosen"], "auto")):
        out = tmp_path / f"{space}.csv"
        assert main(["recommend", "--db", db, "--run", str(run_id), "--k", "5", "--out", str(out), "--diversity",
                     "0.8", "--method", "ild", "--space", space, "--json"]) == 0
        done = _json_last(capsys.readouterr().out)
        assert done["space"] == (swept["chosen"] if space == "auto" else space) and done["method"] == "ild"
        lists[space] = [r["item"] for r in csv.DictReader(out.open())]
    assert lists["categories"] != lists["model"]
    assert lists["auto"] == lists[swept["chosen"]]


def test_errors_are_clear(db, capsys):
    assert main(["evaluate", "--db", db, "--run", "99"]) == 2
    assert "no run 99" in capsys.readouterr().err
    assert main(["train", "--db", db, "--dataset", "nope", "--model", "ease"]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["train", "--db", db, "--dataset", MINI, "--model", "popularity", "--no-holdout", "--json"]) == 0
    run_id = _json_last(capsys.readouterr().out)["run_id"]
    assert main(["evaluate", "--db", db, "--run", str(run_id)]) == 2
    assert "without a holdout" in capsys.readouterr().err


def test_train_lstm_one_epoch_json_and_progress(db, capsys):
    assert main(["train", "--db", db, "--dataset", MINI, "--model", "lstm", "--no-tune", "--epochs", "1", "--device", "cpu",
                 "--seed", "1", "--json"]) == 0
    cap = capsys.readouterr()
    res = _json_last(cap.out)
    assert res["device"] == "cpu" and res["seconds"] > 0 and res["metrics"]["n_users"] > 0
    assert "epoch 1/" in cap.err
    assert main(["runs", "--db", db, "--json"]) == 0
    assert [r["model"] for r in _json_last(capsys.readouterr().out)] == ["lstm"]
    assert main(["train", "--db", db, "--dataset", MINI, "--model", "lstm", "--no-tune", "--epochs", "1", "--device",
                 "cpu", "--seed", "1", "--fresh-refit", "--json"]) == 0
    fresh = _json_last(capsys.readouterr().out)["run_id"]
    from engine.store import repository as repo
    store = open_store(db)
    try:
        with store.session() as s:
            assert repo.get_run(s, res["run_id"]).config["warm_refit"] is True
            assert repo.get_run(s, fresh).config["warm_refit"] is False
    finally:
        store.close()
