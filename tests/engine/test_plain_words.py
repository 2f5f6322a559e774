"""Plain words that understand sentences (issue 21): titles first with their punctuation, clauses,
negation, several items and intents in one sentence, categories and soft weights, questions for equal
titles, one sentence = one undoable action (store, live list, CLI), migration 0007, and the fixture
tests/data/plain_words/utterances.json (demo part always; X-Wines and MovieTweetings parts: slow, with
../shared/data)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from tests.conftest import shared_data_or_skip

ROOT = Path(__file__).resolve().parents[2]

CATALOGUE = [   # (title, genres, description)
    ("Star Wars (1977)", "Action|Adventure|Sci-Fi", ""),
    ("Star Wars: Episode IV - A New Hope (1977)", "Action|Adventure|Sci-Fi", ""),
    ("The Godfather (1972)", "Crime|Drama", ""),
    ("The Godfather: Part II (1974)", "Crime|Drama", ""),
    ("War Horse (2011)", "Drama|War", ""),
    ("Saving Private Ryan (1998)", "Drama|War", ""),
    ("Hamlet (1948)", "Drama", ""),
    ("Hamlet (1996)", "Drama", ""),
    ("The Conjuring (2013)", "Horror", ""),
    ("Paddington (2014)", "Comedy|Family", ""),
    ("Die Hard (1988)", "Action|Thriller", ""),
    ("Airplane! (1980)", "Comedy", ""),
    ("Pauillac (Premier Grand Cru Classé)", "Red|Cabernet Sauvignon",
     "type: Red; body: Full-bodied; country: France; winery name: Château Lafite Rothschild"),
    ("Pauillac (Premier Grand Cru Classé)", "Red|Cabernet Sauvignon",
     "type: Red; body: Full-bodied; country: France; winery name: Château Mouton Rothschild"),
    ("Pauillac (Grand Cru Classé)", "Red|Cabernet Sauvignon",
     "type: Red; body: Full-bodied; country: France; winery name: Château Pichon Baron"),
    ("Quinta do Loureiro Vinho Verde", "White|Loureiro",
     "type: White; body: Light-bodied; country: Portugal; winery name: Quinta do Loureiro"),
    ("Loureiro Escolha", "White|Loureiro", "type: White; body: Light-bodied; country: Portugal; winery name: Other"),
    ("Brut Rosé", "Sparkling|Pinot Noir", "type: Sparkling; body: Medium-bodied; country: France; winery name: X"),
]


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """A small catalogue of the issue's hard titles (films and wines) with random users and an itemknn run."""
    from engine.data.dataset import load_dataset, write_dataset
    from engine.runs.baselines import fit_baseline
    from engine.store import open_store
    store = open_store(str(tmp_path_factory.mktemp("mixed") / "mixed.db"))
    rng = np.random.default_rng(1)
    users, items = [], []
    for u in range(40):
        picks = rng.choice(len(CATALOGUE), size=6, replace=False)
        users += [u] * 6
        items += picks.tolist()
    n = len(users)
    write_dataset(store, "mixed", user_ids=[f"u{u}" for u in range(40)], item_ids=[f"i{i}" for i in range(len(CATALOGUE))],
                  titles=[c[0] for c in CATALOGUE], genres=[c[1].split("|") for c in CATALOGUE],
                  descriptions=[c[2] for c in CATALOGUE], user_idx=np.array(users, np.int32),
                  item_idx=np.array(items, np.int32), rating=rng.integers(1, 6, n).astype(np.float32),
                  timestamp=np.arange(n, dtype=np.int64), rating_min=1.0, rating_max=5.0, positive_threshold=4.0,
                  source={"kind": "test"})
    run_id = fit_baseline(store, "mixed", "itemknn", holdout=False)
    yield store, load_dataset(store, "mixed"), run_id
    store.close()


def said(ds, text):
    from engine.language.plain_words import understand
    u = understand(text, ds)
    return [(a.kind, tuple(ds.titles[i] for i in a.items), a.categories, a.weight) for a in u.actions], u


@pytest.mark.parametrize("text, expected", [
    ("I don't like Star Wars: Episode IV - A New Hope",
     [("dislike", ("Star Wars: Episode IV - A New Hope (1977)",), (), 0.0)]),
    ("I don't like Star Wars, can you suggest others?", [("dislike", ("Star Wars (1977)",), (), 0.0)]),
    ("no more The Godfather: Part II", [("dislike", ("The Godfather: Part II (1974)",), (), 0.0)]),
    ("I loved War Horse", [("like", ("War Horse (2011)",), (), 0.0)]),          # a title with a genre word
    ("nothing with war", [("avoid", (), ("genre=War",), 0.0)]),
    ("less action, more comedy", [("weight", (), ("genre=Action",), -1.0), ("weight", (), ("genre=Comedy",), 1.0)]),
    ("Die Hard was great but Paddington was boring",
     [("like", ("Die Hard (1988)",), (), 0.0), ("dislike", ("Paddington (2014)",), (), 0.0)]),
    ("stop recommending Airplane!", [("not_interested", ("Airplane! (1980)",), (), 0.0)]),
    ("I loved Die Hard and Saving Private Ryan",
     [("like", ("Die Hard (1988)",), (), 0.0), ("like", ("Saving Private Ryan (1998)",), (), 0.0)]),
    ("I don't dislike Paddington", [("neutral", ("Paddington (2014)",), (), 0.0)]),
    ("It's not that I don't like Paddington", [("like", ("Paddington (2014)",), (), 0.0)]),
    ("I like Die Hard but not Paddington",
     [("like", ("Die Hard (1988)",), (), 0.0), ("dislike", ("Paddington (2014)",), (), 0.0)]),
    ("more like The Conjuring", [("more_like", ("The Conjuring (2013)",), (), 0.0)]),
    ("no more white wines", [("avoid", (), ("genre=White",), 0.0)]),
    ("nothing full-bodied", [("avoid", (), ("body=Full-bodied",), 0.0)]),
    ("I don't like Pauillac (Grand Cru Classé)", [("dislike", ("Pauillac (Grand Cru Classé)",), (), 0.0)]),
    ("I don't like Quinta do Lourero Vinho Verde", [("dislike", ("Quinta do Loureiro Vinho Verde",), (), 0.0)]),
    ("I don't like Pauillac (Premier Grand Cru Classé) from Château Mouton Rothschild",
     [("dislike", ("Pauillac (Premier Grand Cru Classé)",), (), 0.0)]),
    ("Hamlet (1996) was great", [("like", ("Hamlet (1996)",), (), 0.0)]),
    ("我不喜欢Die Hard", [("dislike", ("Die Hard (1988)",), (), 0.0)]),
    ("多一点喜剧，少一点动作", [("weight", (), ("genre=Comedy",), 1.0), ("weight", (), ("genre=Action",), -1.0)]),
    ("不要战争片", [("avoid", (), ("genre=War",), 0.0)]),
    ("Die Hard? Not for me.", [("dislike", ("Die Hard (1988)",), (), 0.0)]),
    ("I watched Die Hard and loved it", [("like", ("Die Hard (1988)",), (), 0.0)]),
    ("Die Hard and Paddington were both great",
     [("like", ("Die Hard (1988)",), (), 0.0), ("like", ("Paddington (2014)",), (), 0.0)]),
    ("I'd rather not see any war films", [("avoid", (), ("genre=War",), 0.0)]),
    ("I don't want to see any more horror", [("avoid", (), ("genre=Horror",), 0.0)]),
    ("I don't hate Paddington but I don't love it either", [("neutral", ("Paddington (2014)",), (), 0.0)]),
    ("Less violence", [("weight", (), ("genre=Action", "genre=Crime", "genre=War"), -1.0)]),   # not a title
])
def test_sentences_are_understood(mixed, text, expected):
    _, ds, _ = mixed
    got, u = said(ds, text)
    assert got == expected and not u.not_understood and not u.questions, u.describe(ds)


def test_equal_titles_are_a_question_not_a_guess(mixed):
    _, ds, _ = mixed
    got, u = said(ds, "I don't like Pauillac (Premier Grand Cru Classé)")
    assert got == [] and len(u.questions) == 1
    q = u.questions[0]
    assert q.column == "winery" and set(q.choices) == {"Château Lafite Rothschild", "Château Mouton Rothschild"}
    assert "from which winery?" in u.describe(ds)[0]
    _, u = said(ds, "Hamlet was great")
    assert u.questions[0].column == "year" and set(u.questions[0].choices) == {"1948", "1996"}


def test_a_misspelled_name_is_a_title_with_its_confidence_not_a_grape(mixed):
    _, ds, _ = mixed
    _, u = said(ds, "No Quinta do Lourero Vinho Verde")
    a = u.actions[0]
    assert (a.kind, ds.titles[a.items[0]], a.how) == ("dislike", "Quinta do Loureiro Vinho Verde", "close")
    assert 0.82 <= a.confidence < 1 and "[close 0." in u.describe(ds)[0]


def test_a_sentence_is_one_undoable_action_on_the_live_list(mixed):
    from engine.explore.live_list import UserRecommendations
    from engine.language.plain_words import apply
    store, ds, run_id = mixed
    from engine.runs.loaded import load_run
    run = load_run(store, run_id)
    recs = UserRecommendations(run, 0)
    before = [r.item for r in recs.rerank(0.0, "mmr", 10).rows]
    _, u = said(ds, "no more white wines, less action and more comedy")
    ids = apply(u, recs)
    assert [e.kind for e in recs.feedback] == ["avoid", "weight", "weight"] and len({e.sentence_id for e in recs.feedback}) == 1
    after = [r.item for r in recs.rerank(0.0, "mmr", 10).rows]
    assert not any("White" in ds.genres[i] for i in after)
    pool = recs.candidates().items
    assert any("Action" in ds.genres[i] for i in pool)          # a soft weight hides nothing
    recs.undo(ids[1])                                            # any entry of the sentence: all of it
    assert recs.feedback == [] and [r.item for r in recs.rerank(0.0, "mmr", 10).rows] == before


def test_soft_weight_moves_a_category_down_without_hiding_it(mixed):
    from engine.explore.feedback import Entry
    from engine.explore.live_list import UserRecommendations
    from engine.runs.loaded import load_run
    store, ds, run_id = mixed
    run = load_run(store, run_id)
    for user in range(ds.n_users):
        recs = UserRecommendations(run, user)
        c = recs.candidates()
        drama = [k for k, i in enumerate(c.items) if "Drama" in ds.genres[i]]
        if drama and drama[0] < len(c.items) - 1:
            break
    item = int(c.items[drama[0]])
    score = float(c.scores[drama[0]])
    recs.say("less drama", [Entry("weight", category="genre=Drama", weight=-1.0)])
    c2 = recs.candidates()
    assert item in c2.items and float(c2.scores[list(c2.items).index(item)]) < score


def test_sentence_storage_and_undo(any_store):
    from engine.data.dataset import write_dataset
    from engine.explore.feedback import (
        Entry,
        group_sentences,
        list_feedback,
        record_feedback,
        record_sentence,
        undo_and_list,
    )
    ds_id = write_dataset(any_store, "tiny", user_ids=["u"], item_ids=["a", "b", "c"], titles=["A", "B", "C"],
                          genres=[["X"], ["Y"], ["X"]], descriptions=["", "", ""],
                          user_idx=np.zeros(3, np.int32), item_idx=np.arange(3, dtype=np.int32),
                          rating=None, timestamp=None, rating_min=None, rating_max=None,
                          positive_threshold=None, source={"kind": "test"})
    click = record_feedback(any_store, ds_id, 0, 0, "like")
    ids = record_sentence(any_store, ds_id, 0, "no X, less Y, B was boring",
                          [Entry("avoid", category="genre=X"), Entry("weight", category="genre=Y", weight=-1.0),
                           Entry("dislike", 1)])
    entries = list_feedback(any_store, ds_id, 0)
    assert [(e.kind, e.item, e.category, e.weight) for e in entries] == [
        ("like", 0, "", 0.0), ("avoid", -1, "genre=X", 0.0), ("weight", -1, "genre=Y", -1.0), ("dislike", 1, "", 0.0)]
    assert [e.sentence_id for e in entries] == [None, ids[0], ids[0], ids[0]]
    assert entries[1].sentence == "no X, less Y, B was boring"
    assert [[e.id for e in g] for g in group_sentences(entries)] == [[click], ids]
    left = undo_and_list(any_store, ds_id, 0)                  # the latest action: the whole sentence
    assert [e.id for e in left] == [click] == [e.id for e in list_feedback(any_store, ds_id, 0)]


def test_migration_0007_upgrades_a_database_with_feedback(db_url, tmp_path):
    from alembic import command

    from engine.explore.feedback import list_feedback
    from engine.store import open_store
    from engine.store.db import _alembic_config
    art = None if "://" not in db_url else tmp_path / "art"
    store = open_store(db_url, artifacts=art)
    from tests.engine.movies import write_films
    ds_id = write_films(store)
    with store.engine.begin() as c:
        cfg = _alembic_config()
        cfg.attributes["connection"] = c
        command.downgrade(cfg, "0006_identity")
        assert "sentence_id" not in {col["name"] for col in sa.inspect(c).get_columns("feedback")}
        c.execute(sa.text("INSERT INTO feedback (dataset_id, user_idx, item_idx, kind, active, created_at) "
                          "VALUES (:d, 0, 3, 'dislike', :t, '2026-12-01 10:00:00')"), {"d": ds_id, "t": True})
    store.close()
    store = open_store(db_url, artifacts=art)                  # upgraded again on open
    try:
        [e] = list_feedback(store, ds_id, 0)
        assert (e.item, e.kind, e.category, e.weight, e.sentence_id, e.sentence) == (3, "dislike", "", 0.0, None, "")
    finally:
        store.close()


def test_cli_say_list_and_undo_a_sentence(mixed, capsys):
    from engine.cli.main import main
    store, ds, run_id = mixed
    db = store.engine.url.database
    assert main(["--db", db, "feedback", "say", "--dataset", "mixed", "--user", "u3", "--json",
                 "nothing with horror, I don't like Die Hard"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["applied"] and len(out["feedback_ids"]) == 2
    assert main(["--db", db, "feedback", "list", "--dataset", "mixed", "--user", "u3"]) == 0
    text = capsys.readouterr().out
    assert "sentence        “nothing with horror, I don't like Die Hard” (2 entries" in text
    assert "genre=Horror" in text and "Die Hard (1988)" in text
    assert main(["--db", db, "feedback", "undo", "--dataset", "mixed", "--user", "u3",
                 "--id", str(out["feedback_ids"][1])]) == 0
    assert f"undid feedback {out['feedback_ids'][0]}, {out['feedback_ids'][1]} (the whole sentence" in capsys.readouterr().out
    assert main(["--db", db, "feedback", "list", "--dataset", "mixed", "--user", "u3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["--db", db, "feedback", "say", "--dataset", "mixed", "--user", "u3", "--dry-run",
                 "I don't like Hamlet"]) == 0
    text = capsys.readouterr().out
    assert "Not applied yet:" in text and "“Hamlet” from which year?" in text and "1948" in text and "1996" in text


# ---- the fixture ----------------------------------------------------------------------------------

def _bench():
    spec = importlib.util.spec_from_file_location("plain_words_bench", ROOT / "benchmarks" / "plain_words.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_fixture_has_enough_forms_and_utterances():
    rows = _bench().load_utterances()
    assert len(rows) >= 150 and len({r["form"] for r in rows}) >= 12
    assert {r["dataset"] for r in rows} == {"demo", "xwines", "tweetings"}
    assert sum(r["held_out"] for r in rows) >= len(rows) // 3
    assert all(r["expect"]["actions"] or r["expect"]["questions"] for r in rows)


def _check(results):
    forms = {r["form"] for r in results}
    for form in forms:
        part = [r for r in results if r["form"] == form]
        assert np.mean([r["intent"] for r in part]) >= 0.7, (form, [r for r in part if not r["intent"]])
        assert np.mean([r["effect"] for r in part]) >= 0.7, (form, [r for r in part if not r["effect"]])
    assert np.mean([r["intent"] for r in results]) >= 0.9 and np.mean([r["effect"] for r in results]) >= 0.9


def test_the_fixtures_demo_part(tmp_path):
    b = _bench()
    store = b.build_store(str(tmp_path / "bench.db"), ["demo"])
    try:
        _check(b.evaluate(b.Bench(store), b.load_utterances(["demo"])))
    finally:
        store.close()


@pytest.mark.slow
@pytest.mark.parametrize("part", ["xwines", "tweetings"])
def test_the_fixtures_real_data_parts(tmp_path, part):
    shared_data_or_skip("x-wines-slim" if part == "xwines" else "movietweetings-100k")
    b = _bench()
    store = b.build_store(str(tmp_path / "bench.db"), [part])
    try:
        _check(b.evaluate(b.Bench(store), b.load_utterances([part])))
    finally:
        store.close()
