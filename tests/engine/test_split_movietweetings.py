"""On real data: importing MovieTweetings-100k with the app's importer and splitting it must
reproduce PEERS.md's split statistics exactly, and MostPopular (no tuning, no randomness) its
figures; both come from an independent implementation of docs/evaluation.md. Skips without ../shared/data."""
from __future__ import annotations

import pytest

from engine.data.dataset import load_dataset
from engine.data.split import time_split, validation_split
from engine.evaluation.protocol import evaluate
from engine.models.popularity import PopularityRecommender
from tests.conftest import shared_data_or_skip

pytestmark = pytest.mark.slow   # the real MovieTweetings dataset: the full tier only (`pytest -m "not slow"` skips it)


@pytest.fixture(scope="module")
def mt_dataset(tmp_path_factory):
    root = shared_data_or_skip("movietweetings-100k")
    from engine.ingest import import_files
    from engine.store import open_store
    store = open_store(str(tmp_path_factory.mktemp("mt") / "mt.db"))
    try:
        summary = import_files(store, [root / "ratings.dat", root / "movies.dat"], name="mt")
        yield load_dataset(store, summary.dataset_id)
    finally:
        store.close()


def test_movietweetings_split_matches_peers(mt_dataset):
    ds = mt_dataset
    assert (ds.n_users, ds.n_items, ds.n_interactions) == (16554, 10506, 100000)
    assert ds.positive_threshold == 8 and int(ds.positive_mask().sum()) == 50542
    split = time_split(ds)
    assert split.stats == dict(users=16554, evaluated_users=2711, test_positives=5659, train_rows=89044,
                               train_positives=44883, dropped=5297, items=10506)
    lengths = sorted(len(t) for t in split.test_items)
    assert lengths[len(lengths) // 2] == 1 and lengths[-1] == 43
    val = validation_split(split.train)
    assert (val.stats["evaluated_users"], val.stats["test_positives"], val.stats["train_rows"]) == (2208, 4269, 81016)


def test_movietweetings_mostpopular_matches_peers(mt_dataset):
    split = time_split(mt_dataset)
    model = PopularityRecommender()
    model.fit(split.train)
    m = evaluate(model, split)
    peers = {"recall@10": 0.1553, "ndcg@10": 0.0815, "hit_rate@10": 0.2280, "mrr@10": 0.0730,
             "recall@20": 0.2244, "ndcg@20": 0.1013, "hit_rate@20": 0.3165, "mrr@20": 0.0793,
             "ild_genre@10": 0.6909, "coverage@10": 0.0025, "novelty@10": 6.5026, "gini@10": 0.9988,
             "ild_genre@20": 0.7420, "coverage@20": 0.0038, "novelty@20": 7.0179, "gini@20": 0.9978}
    for key, value in peers.items():
        assert m[key] == pytest.approx(value, abs=6e-5), key
    assert m["n_users"] == 2711
