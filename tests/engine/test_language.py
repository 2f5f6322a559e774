"""Search, plain-words feedback and the semantic space on a tiny film catalogue, with the real encoder."""
from __future__ import annotations

import json

import pytest

from engine.errors import EngineError


@pytest.fixture(scope="module")
def films(tmp_path_factory):
    """A database with the film catalogue encoded, an EASE run, and the loaded dataset."""
    from engine.data.dataset import load_dataset
    from engine.encoder.catalogue import encode_catalogue
    from engine.explore.similarity import attach_semantic
    from engine.runs.baselines import fit_baseline
    from engine.store import open_store
    from tests.engine.movies import write_films
    path = tmp_path_factory.mktemp("films") / "films.db"
    store = open_store(str(path))
    write_films(store)
    ds = load_dataset(store, "films")
    encode_catalogue(store, ds, backend="numpy")
    attach_semantic(store, ds)
    run_id = fit_baseline(store, "films", "ease", holdout=False)
    yield store, ds, run_id, str(path)
    store.close()


@pytest.fixture(scope="module")
def encoder():
    from engine.encoder import load_encoder
    return load_encoder("numpy")


def titles(ds, items):
    return [ds.titles[i] for i in items]


@pytest.mark.parametrize("query, expected", [
    ("animated film for children", {"Toy Story (1995)", "Finding Nemo (2003)", "WALL·E (2008)"}),
    ("space adventure with robots", {"WALL·E (2008)", "Star Wars (1977)", "Interstellar (2014)"}),
    ("scary haunted house", {"The Conjuring (2013)", "Hereditary (2018)"}),
])
def test_search_ranks_by_meaning(films, query, expected):
    from engine.language.search import search_items
    _, ds, _, _ = films
    res = search_items(ds, query, 3)
    assert res.hits[0].title in expected
    assert len(expected & {h.title for h in res.hits}) >= 2
    assert all(h.title_match == 0 for h in res.hits)


def test_search_puts_an_exact_title_first(films):
    from engine.language.search import search_items
    _, ds, _, _ = films
    for q in ("alien", "The Notebook", "amelie"):
        hit = search_items(ds, q, 5).hits[0]
        assert hit.title_match == 1.0 and ds.titles[hit.item].lower().startswith(q.lower().replace("amelie", "amélie"))


def test_search_needs_an_encoded_catalogue(store):
    from engine.data.dataset import load_dataset
    from engine.explore.similarity import attach_semantic
    from tests.engine.movies import write_films
    write_films(store)
    ds = load_dataset(store, "films")
    with pytest.raises(EngineError, match="llmrec encode --dataset films"):
        attach_semantic(store, ds)


UNDERSTOOD = [
    ("I don't like Inception, can you suggest others?", "dislike", ["Inception (2010)"], ()),
    ("more like Amelie", "more_like", ["Amélie (2001)"], ()),
    ("I've seen Titanic", "not_interested", ["Titanic (1997)"], ()),
    ("no horror", "avoid", [], ("Horror",)),
    ("no scary movies please", "avoid", [], ("Horror",)),
    ("something lighter", "lighter", [], None),
    ("less popular films", "less_popular", [], ()),
    ("more like the little robot that cleans the earth", "more_like", ["WALL·E (2008)"], ()),
    ("我不喜欢《Inception》", "dislike", ["Inception (2010)"], ()),
    ("不要恐怖片", "avoid", [], ("Horror",)),
    ("我看过Titanic", "not_interested", ["Titanic (1997)"], ()),
    ("冷门一点", "less_popular", [], ()),
]


@pytest.mark.parametrize("text, kind, items, genres", UNDERSTOOD)
def test_understand(films, encoder, text, kind, items, genres):
    from engine.language.plain_words import understand
    _, ds, _, _ = films
    u = understand(text, ds, encoder=encoder)
    assert len(u.actions) == 1 and not u.not_understood, u
    a = u.actions[0]
    assert a.kind == kind
    assert titles(ds, a.items) == items
    if genres is None:                  # "lighter": the encoder's darkest genres, never the light ones
        assert "Horror" in a.genres and not {"Comedy", "Family", "Animation"} & set(a.genres)
    else:
        assert a.genres == genres


def test_understand_splits_clauses_and_reports_the_rest(films, encoder):
    from engine.language.plain_words import understand
    _, ds, _, _ = films
    u = understand("I loved Star Wars and no horror. Blorp zzz.", ds, encoder=encoder)
    assert [a.kind for a in u.actions] == ["like", "avoid"]
    assert u.not_understood == ("Blorp zzz",)
    lines = u.describe(ds)
    assert lines[0].startswith("Like: Star Wars (1977)") and lines[-1] == "Not understood: 'Blorp zzz'"


def test_the_articles_dialogue_goes_through_the_feedback_engine_and_undoes(films, encoder):
    from engine.explore.feedback import list_feedback
    from engine.explore.live_list import UserRecommendations
    from engine.language.plain_words import apply, understand
    from engine.runs.loaded import load_run
    store, ds, run_id, _ = films
    run = load_run(store, run_id)
    inception = ds.titles.index("Inception (2010)")
    user = next(u for u in range(ds.n_users) if inception not in run.history(u)[0]
                and inception in [r.item for r in UserRecommendations(run, u).rerank(0.0, "mmr", 10).rows])
    recs = UserRecommendations(run, user, store)
    before = [r.item for r in recs.rerank(0.0, "mmr", 10).rows]
    u = understand("I don't like Inception, can you suggest others?", ds, encoder=encoder)
    assert u.describe(ds) == ["Dislike: Inception (2010); demote 20 similar items"]
    ids = apply(u, recs)
    after = [r.item for r in recs.rerank(0.0, "mmr", 10).rows]
    assert inception in before and inception not in after
    assert [(e.item, e.kind) for e in list_feedback(store, ds.info.id, user)] == [(inception, "dislike")]
    for fid in ids:
        recs.undo(fid)
    assert list_feedback(store, ds.info.id, user) == []
    assert [r.item for r in recs.rerank(0.0, "mmr", 10).rows] == before


def test_no_genre_hides_that_genre_from_the_list(films, encoder):
    from engine.explore.live_list import UserRecommendations
    from engine.language.plain_words import apply, understand
    from engine.runs.loaded import load_run
    _, ds, run_id, _ = films
    run = load_run(films[0], run_id)
    users = [u for u in range(ds.n_users)
             if any("Horror" in r.genres for r in UserRecommendations(run, u).rerank(0.0, "mmr", 10).rows)]
    recs = UserRecommendations(run, users[0])       # no store: feedback kept in memory
    ids = apply(understand("no horror", ds, encoder=encoder), recs)
    assert ids and all("Horror" not in r.genres for r in recs.rerank(0.0, "mmr", 10).rows)


def test_semantic_space_and_explanations(films):
    from engine.explore.explain import explain
    from engine.explore.similarity import nearest_items, similarity_matrix
    _, ds, _, _ = films
    toy = ds.titles.index("Toy Story (1995)")
    nb, sims = nearest_items([toy], "semantic", dataset=ds, n=3)
    assert {"Finding Nemo (2003)", "WALL·E (2008)", "Paddington (2014)"} & set(titles(ds, nb[0]))
    m = similarity_matrix([toy, toy], "semantic", dataset=ds)
    assert m[0, 1] == pytest.approx(1.0, abs=1e-5)
    conjuring, hereditary = ds.titles.index("The Conjuring (2013)"), ds.titles.index("Hereditary (2018)")
    e = explain([conjuring], [toy, hereditary], dataset=ds)[0]
    assert any(s.startswith("Close in meaning to Hereditary (2018) (0.") for s in e.sentences)
    far = explain([ds.titles.index("Paddington (2014)")], [hereditary], dataset=ds)[0]
    assert not any("in meaning" in s for s in far.sentences)


ANIMATED_FAMILY = {"Toy Story (1995)", "Finding Nemo (2003)", "WALL·E (2008)"}


def test_cli_search_and_say(films, capsys):
    from engine.cli.main import main
    _, ds, run_id, path = films
    assert main(["--db", path, "search", "--dataset", "films", "animated film for children", "--k", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["hits"][0]["title"] in ANIMATED_FAMILY and out["understood_text"] == "Animation · Family"
    assert main(["--db", path, "feedback", "say", "--dataset", "films", "--user", "u2", "--dry-run",
                 "I don't like Inception, can you suggest others?"]) == 0
    text = capsys.readouterr().out
    assert "Dislike: Inception (2010); demote 20 similar items" in text and "Applied" not in text
    assert main(["--db", path, "feedback", "say", "--dataset", "films", "--user", "u2", "I've seen Titanic", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["applied"] and "Titanic (1997)" not in [r["title"] for r in out["list"]]
    assert main(["--db", path, "feedback", "undo", "--dataset", "films", "--user", "u2", "--id",
                 *map(str, out["feedback_ids"])]) == 0
    assert main(["--db", path, "feedback", "list", "--dataset", "films", "--user", "u2", "--json"]) == 0
    assert "[]" in capsys.readouterr().out


def test_cli_encode_is_incremental(store, capsys):
    from engine.cli.main import main
    from tests.engine.movies import write_films
    write_films(store)
    db = store.engine.url.database
    assert main(["--db", db, "encode", "--dataset", "films", "--backend", "numpy", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert (first["encoded"], first["reused"], first["encoder"]) == (16, 0, "all-MiniLM-L6-v2")
    assert main(["--db", db, "encode", "--dataset", "films", "--backend", "numpy"]) == 0
    assert "0 encoded, 16 reused from the cache" in capsys.readouterr().out


def test_cli_encode_static_names_its_encoder_and_search_uses_it(store, capsys):
    from engine.cli.main import main
    from tests.engine.movies import write_films
    write_films(store)
    db = store.engine.url.database
    assert main(["--db", db, "encode", "--dataset", "films", "--encoder", "static"]) == 0
    assert "(minilm-static," in capsys.readouterr().out
    assert main(["--db", db, "search", "--dataset", "films", "Finding Nemo", "--k", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["encoder"] == "minilm-static" and out["hits"][0]["title"].startswith("Finding Nemo")
