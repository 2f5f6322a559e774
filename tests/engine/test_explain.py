"""Explanations: built only from facts (similar history items with values, shared genres, promotion),
and the explore/similar/feedback CLI that prints them."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine.cli.main import main
from engine.explore.explain import explain
from tests.engine.test_similarity import VectorModel, tiny_dataset


def test_explain_facts():
    ds = tiny_dataset(["Alien", "Aliens", "Amelie", "Heat", "Up"],
                      [("Sci-Fi", "Horror"), ("Sci-Fi", "Action"), ("Romance",), ("Crime", "Action"), ()])
    v = np.array([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0.2, 0, 1], [0, 0, 0]], dtype=np.float32)
    v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)
    model = VectorModel(v)
    out = explain([1, 2], [0, 3, 0], dataset=ds, model=model, promoted=[False, True], gains=[1.0, 0.83])
    first, second = out
    assert [c.item for c in first.because] == [0, 3]            # most similar history item first, positives only
    assert first.because[0].similarity == pytest.approx(float(v[1] @ v[0]))
    assert first.space == "model"
    assert dict(first.shared_genres) == {"Sci-Fi": 1, "Action": 1}
    assert "Alien (" in first.text and "Shares" in first.text and "Promoted" not in first.text
    assert second.because == () and second.shared_genres == ()
    assert second.promoted and "diversity gain of 0.83" in second.text
    assert "None of your history items" in second.text
    assert "(the nearest, " in second.text        # the weak best match is named as such, not as a reason
    # a model without item vectors: explained in the text space
    text_only = explain([1], [0], dataset=ds, model=VectorModel(None))
    assert text_only[0].space == "text" and "item text" in text_only[0].text


def test_weak_similarity_is_not_given_as_a_reason():
    from engine.explore.explain import MIN_CONTRIBUTION
    ds = tiny_dataset(["A", "B", "C"], [("X",), ("Y",), ("Z",)])
    s = MIN_CONTRIBUTION / 2
    v = np.array([[1, 0], [s, np.sqrt(1 - s * s)], [0, 1]], dtype=np.float32)
    out = explain([1], [0], dataset=ds, model=VectorModel(v))[0]
    assert out.because == ()
    assert f"has similarity {s:.2f}" in out.text and "Closest" not in out.text


def test_explore_similar_feedback_cli(tmp_path, capsys):
    from engine.data.demo import create_demo_dataset
    from engine.runs.baselines import fit_baseline
    from engine.runs.loaded import load_run
    from engine.store import open_store
    db = str(tmp_path / "cli.db")
    store = open_store(db)
    create_demo_dataset(store, "small", n_items=300, n_users=200)
    run_id = fit_baseline(store, "small", "ease")
    run = load_run(store, run_id)
    store.close()
    user = str(run.dataset.user_ids[int(run.split.test_users[0])])
    item = str(run.dataset.item_ids[0])

    assert main(["--db", db, "similar", "--run", str(run_id), "--item", item, "--space", "text", "--json"]) == 0
    sim = json.loads(capsys.readouterr().out)
    assert len(sim["similar"]) == 10 and item not in [r["item"] for r in sim["similar"]]

    assert main(["--db", db, "explore", "--run", str(run_id), "--user", user, "--diversity", "0.7",
                 "--method", "dpp", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert len(first["rows"]) == 10 and first["metrics"]["ild_genre"] > 0
    top = first["rows"][0]["item"]

    assert main(["--db", db, "feedback", "not_interested", "--dataset", "small", "--user", user,
                 "--item", str(run.dataset.item_ids[top])]) == 0
    capsys.readouterr()
    assert main(["--db", db, "explore", "--run", str(run_id), "--user", user, "--diversity", "0.7",
                 "--method", "dpp", "--json"]) == 0
    assert top not in [r["item"] for r in json.loads(capsys.readouterr().out)["rows"]]
    assert main(["--db", db, "feedback", "list", "--dataset", "small", "--user", user, "--json"]) == 0
    assert [r["kind"] for r in json.loads(capsys.readouterr().out)] == ["not_interested"]
    assert main(["--db", db, "feedback", "undo", "--dataset", "small", "--user", user]) == 0
    assert main(["--db", db, "feedback", "list", "--dataset", "small", "--user", user, "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1]) == []
    assert main(["--db", db, "feedback", "undo", "--dataset", "small", "--user", user]) == 2
    assert main(["--db", db, "similar", "--run", str(run_id), "--item", "nope"]) == 2


def test_pair_explanation_leaves_out_template_labels():
    """Issue 22: a templated description ("type: Red; body: …; country: …") shares its labels with every
    item; the heatmap's explanation names the values two wines share, never the labels."""
    from engine.explore.explain import explain_pair
    wines = [("Red", "Full-bodied", "Portugal", "Beef"), ("Red", "Full-bodied", "Portugal", "Lamb"),
             ("White", "Light-bodied", "France", "Fish"), ("Rosé", "Medium-bodied", "Spain", "Salad"),
             ("White", "Medium-bodied", "Italy", "Shellfish")]
    ds = tiny_dataset([f"Wine {i}" for i in range(len(wines))], [(t,) for t, *_ in wines],
                      [f"type: {t}; body: {b}; acidity: high; country: {c}; harmonize: {h}" for t, b, c, h in wines])
    text = explain_pair(0, 1, "text", dataset=ds)
    shared = text.split("Shared words in their text: ")[1]
    assert shared == "full, portugal, red."           # the values they share, not "bodied" (every wine has it)
    for label in ("type", "body", "country", "harmonize", "acidity", "high"):   # in every item's text
        assert label not in shared
