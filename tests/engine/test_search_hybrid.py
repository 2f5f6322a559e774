"""Hybrid search: the lexical arm, the facets a query names, the fusion, and (slow, real data) the
query sets of tests/data/search_queries against lexical-only and dense-only."""
from __future__ import annotations

import numpy as np
import pytest

from engine.data.dataset import Dataset, DatasetInfo


def _dataset(titles, genres, descriptions, name="wines") -> Dataset:
    n = len(titles)
    info = DatasetInfo(id=1, name=name, n_users=0, n_items=n, n_interactions=0, rating_min=None, rating_max=None,
                       positive_threshold=None)
    return Dataset(info, np.array([], dtype=object), np.array([f"i{i}" for i in range(n)], dtype=object),
                   list(titles), [tuple(g) for g in genres], list(descriptions), np.zeros(0, np.int32),
                   np.zeros(0, np.int32), np.zeros(0, np.float32), np.zeros(0, np.int64))


def _wine(kind, body, acidity, country, winery, grapes="Merlot"):
    return (f"type: {kind}; grapes: {grapes}; harmonize: Beef, Lamb; body: {body}; acidity: {acidity}; "
            f"country: {country}; winery name: {winery}")


WINES = [  # title, categories, description
    ("Red", ("Red", "Merlot"), _wine("Red", "Light-bodied", "High", "France", "Alpha")),
    ("Red", ("Red", "Merlot"), _wine("Red", "Full-bodied", "High", "Italy", "Beta")),
    ("Reserva Tinto", ("Red", "Touriga Nacional"), _wine("Red", "Full-bodied", "Medium", "Portugal", "Gamma",
                                                          "Touriga Nacional")),
    ("Douro", ("Red", "Touriga Nacional"), _wine("Red", "Very full-bodied", "Medium", "Portugal", "Delta",
                                                   "Touriga Nacional")),
    ("Vinho Verde", ("White", "Alvarinho"), _wine("White", "Light-bodied", "High", "Portugal", "Epsilon",
                                                    "Alvarinho")),
    ("Brut", ("Sparkling", "Chardonnay"), _wine("Sparkling", "Medium-bodied", "High", "France", "Zeta", "Chardonnay")),
    ("Brut Rosé", ("Sparkling", "Pinot Noir"), _wine("Sparkling", "Medium-bodied", "Low", "France", "Eta",
                                                     "Pinot Noir")),
    ("Pinot Grigio", ("White", "Pinot Grigio"), _wine("White", "Light-bodied", "Low", "Italy", "Theta",
                                                      "Pinot Grigio")),
    ("Colheita Port", ("Dessert/Port", "Touriga Nacional"), _wine("Dessert/Port", "Very full-bodied", "Low",
                                                                  "Portugal", "Iota", "Touriga Nacional")),
    ("Chianti", ("Red", "Sangiovese"), _wine("Red", "Medium-bodied", "High", "Italy", "Kappa", "Sangiovese")),
]


@pytest.fixture()
def wines():
    return _dataset(*zip(*WINES))


def test_analyse_stems_folds_and_cuts_cjk_into_bigrams():
    from engine.language.lexical import analyse
    assert analyse("The Rosé wines, full-bodied") == ["rose", "wine", "full", "bodi"]
    assert analyse("千与千寻") == ["千与", "与千", "千寻"]
    assert analyse("Toy Story 玩具总动员") == ["toy", "stori", "玩具", "具总", "总动", "动员"]


def test_lexical_arm_scores_the_items_with_the_words(wines):
    from engine.language.lexical import LexicalIndex
    idx = LexicalIndex([wines.item_text(i) for i in range(wines.n_items)])
    s = idx.scores("low acidity")
    assert set(np.argsort(-s)[:3]) == {6, 7, 8} and s.min() > 0     # every item says "acidity"
    assert not idx.scores("zzz unknown").any()


@pytest.mark.parametrize("query, expected", [
    ("full-bodied Portuguese red", ["Full-bodied", "Portugal", "Red"]),
    ("very full-bodied red", ["Very full-bodied", "Red"]),
    ("low acidity wine", ["Low"]),
    ("acidity low", ["Low"]),
    ("light red wine", ["Light-bodied", "Red"]),
    ("sparkling from France", ["Sparkling", "France"]),
    ("Italian white", ["Italy", "White"]),
    ("port", ["Dessert/Port"]),
    ("something nice", []),
])
def test_facets_read_what_a_query_names(wines, query, expected):
    from engine.language.facets import facets
    assert [c.value for c in facets(wines).constraints(query)] == expected


def test_facets_labels_and_describe(wines):
    from engine.language.facets import describe, facets
    fa = facets(wines)
    cs = fa.constraints("full-bodied Portuguese red")
    assert [c.label for c in cs] == ["body", "country", "type"]
    assert describe(cs) == "Full-bodied · Portugal · Red"
    assert not any(label == "winery name" for label, _ in fa.items)   # names do not repeat: not a facet
    met = fa.match(cs)
    assert met[2] == 1.0 and met[3] == pytest.approx(2 / 3) and met[5] == 0.0


def test_genre_adjectives_and_decades_on_films():
    from engine.language.facets import facets
    ds = _dataset(["Toy Story (1995)", "Alien (1979)", "Scream (1996)", "Up (2009)"],
                  [("Animation", "Comedy"), ("Horror", "Sci-Fi"), ("Horror",), ("Animation",)], ["", "", "", ""],
                  name="films")
    fa = facets(ds)
    assert [c.value for c in fa.constraints("animated comedies from the 90s")] == ["Animation", "Comedy", "1990s"]
    assert [c.value for c in fa.constraints("scary eighties")] == ["Horror"]      # no 1980s film: not a constraint
    assert [c.value for c in fa.constraints("the seventies")] == ["1970s"]
    met = fa.match(fa.constraints("animated comedy"))             # genres named together: both count
    assert list(met) == [1.0, 0.0, 0.0, 0.5]


@pytest.mark.parametrize("query", ["full-bodied Portuguese red", "low acidity wine", "sparkling from France"])
def test_a_constraint_query_ranks_only_matching_items_first(wines, query):
    from engine.language.facets import facets
    from engine.language.search import search_items
    fa = facets(wines)
    want = set(np.flatnonzero(fa.match(fa.constraints(query)) == 1.0))
    assert want
    res = search_items(wines, query, len(want))
    assert {h.item for h in res.hits} == want and all(h.constraints_met == 1.0 for h in res.hits)
    assert not res.dense and res.describe()


def test_exact_title_comes_first_and_repeated_titles_get_a_label(wines):
    from engine.language.search import search_items
    res = search_items(wines, "Red", 4)
    assert [h.title for h in res.hits[:2]] == ["Red", "Red"]
    assert {h.label for h in res.hits[:2]} == {"Alpha", "Beta"}          # the winery tells them apart
    assert search_items(wines, "Chianti", 1).hits[0].title == "Chianti"
    assert all(h.label == "" for h in res.hits[2:])


def test_modes(wines):
    from engine.errors import EngineError
    from engine.language.search import search_items
    lex = search_items(wines, "touriga", 3, mode="lexical")
    assert {h.title for h in lex.hits} == {"Reserva Tinto", "Douro", "Colheita Port"} and lex.constraints == ()
    with pytest.raises(EngineError, match="llmrec encode"):
        search_items(wines, "touriga", 3, mode="dense")
    with pytest.raises(EngineError, match="unknown search mode"):
        search_items(wines, "touriga", 3, mode="fuzzy")


def test_dense_arm_takes_part_when_vectors_are_given(wines):
    from engine.language.search import search_items

    class Encoder:        # meaning = the first axis; item 9 alone points that way
        def encode(self, texts):
            return np.array([[1.0, 0.0]], dtype=np.float32)

    v = np.zeros((wines.n_items, 2), np.float32)
    v[:, 1] = 1.0
    v[9] = (1.0, 0.0)
    res = search_items(wines, "a wine for a quiet evening", 3, encoder=Encoder(), vectors=v)
    assert res.dense and res.hits[0].title == "Chianti" and res.hits[0].meaning == pytest.approx(1.0)


def test_cjk_query_finds_cjk_titles():
    from engine.language.search import search_items
    ds = _dataset(["千与千寻", "龙猫", "Spirited Away"], [("Animation",)] * 3,
                  ["一个女孩在神灵世界的冒险", "两姐妹和森林里的龙猫", "A girl in the spirit world"], name="cjk")
    res = search_items(ds, "神灵世界", 2, mode="lexical")
    assert res.hits[0].title == "千与千寻" and res.hits[0].lexical > 0
    assert search_items(ds, "龙猫", 1).hits[0].title == "龙猫"
    genres = _dataset(["a", "b", "c"], [("动画", "喜剧"), ("动画",), ("恐怖",)], ["", "", ""], name="cjk genres")
    from engine.language.facets import facets
    assert [c.value for c in facets(genres).constraints("我想看动画喜剧电影")] == ["动画", "喜剧"]
    assert search_items(genres, "我想看动画喜剧电影", 1).hits[0].title == "a"


# ---- the real query sets (slow: imports X-Wines and MovieTweetings, encodes with the static encoder) ----

@pytest.fixture(scope="module")
def real_store(tmp_path_factory):
    from benchmarks.search_quality import fresh_store
    from tests.conftest import shared_data_or_skip
    shared_data_or_skip("movietweetings-100k")
    shared = shared_data_or_skip("x-wines-slim", "XWines_Slim_1K_wines_150K_ratings.zip").parents[1]
    store = fresh_store(tmp_path_factory.mktemp("search_real"), shared, encoder="static")
    yield store
    store.close()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["xwines", "tweetings", "demo"])
def test_hybrid_is_at_least_as_good_as_either_arm_on_the_query_sets(real_store, name):
    from benchmarks.search_quality import FUSION, evaluate, prepare, summary
    _, rows, dense = prepare(real_store, name, {})
    assert dense
    res = evaluate(rows, dense, FUSION, np.random.default_rng(0))
    ndcg = {m: summary(v)[1] for m, v in res.items()}
    assert ndcg["llmrec hybrid"] >= max(ndcg["lexical only"], ndcg["dense only"]), ndcg
    assert ndcg["random"] < ndcg["lexical only"]


def test_cli_search_shows_what_it_understood_and_runs_without_vectors(store, capsys):
    import json

    from engine.cli.main import main
    from tests.engine.movies import write_films
    write_films(store)
    db = store.engine.url.database
    assert main(["--db", db, "search", "--dataset", "films", "animated comedy", "--k", "3"]) == 0
    out = capsys.readouterr().out
    assert "the catalogue is not encoded" in out and "Understood: Animation · Comedy" in out
    assert "1. Toy Story (1995)" in out                      # the one film that is both
    assert main(["--db", db, "search", "--dataset", "films", "robot", "--mode", "lexical", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["mode"] == "lexical" and res["understood"] == [] and res["hits"][0]["title"] == "WALL·E (2008)"
    assert main(["--db", db, "search", "--dataset", "films", "90s crime", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["understood_text"] == "1990s · Crime" and res["hits"][0]["title"] == "Se7en (1995)"
    assert main(["--db", db, "search", "--dataset", "films", "robot", "--mode", "dense"]) != 0
    assert "llmrec encode --dataset films" in capsys.readouterr().err


def test_shown_titles_tell_repeated_titles_apart():
    """Issue 22: two "Saint-Julien (Grand Cru Classé)" wines are told apart by their winery in lists, the
    history and the heatmap; a title of its own is shown as it is."""
    from engine.language.item_labels import shown_titles
    from llmrec_gui.widgets.heatmap_view import short_title
    from tests.engine.test_similarity import tiny_dataset
    ds = tiny_dataset(["Saint-Julien (Grand Cru Classé)", "Saint-Julien (Grand Cru Classé)", "Paradoxo",
                       "Hamlet (1948)", "Hamlet (1996)"],
                      [("Red",)] * 5,
                      ["type: Red; winery name: Château Talbot", "type: Red; winery name: Château Gruaud Larose",
                       "type: Red; winery name: Salton", "", ""])
    shown = shown_titles(ds)
    assert shown[0] == "Saint-Julien (Grand Cru Classé) · Château Talbot"
    assert shown[1] == "Saint-Julien (Grand Cru Classé) · Château Gruaud Larose"
    assert shown[2] == "Paradoxo" and shown[3] == "Hamlet (1948)"   # the years already differ
    assert short_title(shown[0]) == "Saint… · Château Tal…" and short_title(shown[1]) == "Saint… · Château Gru…"


def test_heatmap_ticks_keep_the_year_of_repeated_titles():
    from llmrec_gui.widgets.heatmap_view import tick_labels
    assert tick_labels(["The Mob (1976)", "The Mob (2019)", "Mob (2004)"]) == ["The Mob (1976)", "The Mob (2019)", "Mob"]
    assert tick_labels(["A Very Long Title Indeed (1976)", "A Very Long Title Indeed (2019)"]) == [
        "A Very Lon… (1976)", "A Very Lon… (2019)"]
    short = tick_labels(["Night of the Racket (1993)", "Night of the Racket (1995)"], 12)
    assert short == ["Nigh… (1993)", "Nigh… (1995)"] and all(len(x) <= 12 for x in short)
