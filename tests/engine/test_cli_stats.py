"""`llmrec stats`: the Datasets view's figures from the command line, the same numbers the app shows
(engine.data.stats.compute_stats), on a real SQLite file."""
from __future__ import annotations

import json

import numpy as np

from engine.cli.main import main


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def make_db(tmp_path) -> tuple[str, int]:
    from engine.data.demo import create_demo_dataset
    from engine.store import open_store
    db = str(tmp_path / "stats.db")
    store = open_store(db)
    try:
        ds_id = create_demo_dataset(store, "tiny", n_items=120, n_users=90)
    finally:
        store.close()
    return db, ds_id


def test_stats_json_has_the_figures_the_app_shows(tmp_path, capsys):
    from engine.data.stats import compute_stats
    from engine.store import open_store
    db, ds_id = make_db(tmp_path)
    code, out, _ = run(capsys, "stats", "--db", db, "--dataset", "tiny", "--json")
    assert code == 0
    doc = json.loads(out)
    store = open_store(db)
    try:
        st = compute_stats(store, ds_id)
    finally:
        store.close()
    assert (doc["id"], doc["name"], doc["n_users"], doc["n_items"]) == (ds_id, "tiny", st.n_users, st.n_items)
    assert (doc["n_interactions"], doc["n_positives"]) == (st.n_interactions, st.n_positives)
    assert sum(h["count"] for h in doc["rating_histogram"]) == st.n_interactions
    assert [h["rating"] for h in doc["rating_histogram"]] == [float(v) for v in st.rating_values]
    assert doc["per_item"]["max"] == int(st.per_item[0]) and doc["per_user"]["min"] == int(st.per_user[-1])
    assert doc["per_item"]["median"] == float(np.median(st.per_item))
    assert 0.2 <= doc["per_item"]["top_20pct_share"] <= 1.0
    assert [(c["name"], c["items"]) for c in doc["top_categories"]][:3] == [tuple(g) for g in st.genres[:3]]
    assert len(doc["top_categories"]) <= 10
    assert doc["split"]["evaluated users"] == st.split["evaluated users"] > 0


def test_stats_text_and_an_unknown_dataset(tmp_path, capsys):
    db, ds_id = make_db(tmp_path)
    code, out, _ = run(capsys, "--db", db, "stats", "--dataset", str(ds_id))   # an id works too
    assert code == 0
    assert out.startswith(f"tiny (id {ds_id}): users 90  items 120")
    assert "ratings: " in out and "interactions per item: most" in out and "interactions per user" in out
    assert "evaluation split: evaluated users" in out
    code, out, err = run(capsys, "--db", db, "stats", "--dataset", "nope")
    assert code != 0 and out == "" and "no dataset" in err and len(err.strip().splitlines()) == 1
