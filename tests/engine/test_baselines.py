"""Baselines: hand-checked on tiny data, and on the demo data EASE and ItemKNN must beat MostPopular."""
from __future__ import annotations

import numpy as np
import pytest

from engine.data.dataset import load_dataset
from engine.data.demo import DEMO_NAME
from engine.data.split import time_split
from engine.models.ease import EASERecommender
from engine.models.itemknn import ItemKNNRecommender
from engine.models.popularity import PopularityRecommender
from engine.runs.baselines import evaluate_baselines
from tests.engine.test_split import make_dataset

# users x items: 0 likes {0,1,2}, 1 likes {0,1}, 2 likes {1,3}; user 2 also rated item 2 low (not a positive)
ROWS = [(0, 0, 5, 1), (0, 1, 5, 2), (0, 2, 4, 3), (1, 0, 5, 1), (1, 1, 4, 2), (2, 1, 5, 1), (2, 3, 5, 2),
        (2, 2, 1.0, 3)]
X = np.array([[1, 1, 1, 0], [1, 1, 0, 0], [0, 1, 0, 1]], dtype=np.float64)


def test_popularity_counts_only_positives():
    m = PopularityRecommender()
    m.fit(make_dataset(ROWS))
    assert m.score(np.array([0])).tolist() == [2, 3, 1, 1]


def test_ease_matches_closed_form():
    lam = 0.5
    m = EASERecommender(l2=lam)
    m.fit(make_dataset(ROWS))
    P = np.linalg.inv(X.T @ X + lam * np.eye(4))
    B = np.eye(4) - P / np.diag(P)
    np.fill_diagonal(B, 0)
    np.testing.assert_allclose(m.B, B, rtol=1e-5, atol=1e-6)
    # only positives of the history count: item 2 rated 1.0 is ignored
    np.testing.assert_allclose(m.score(np.array([1, 2]), np.array([5.0, 1.0])), B[1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(m.score(np.array([1, 2])), B[1] + B[2], rtol=1e-5, atol=1e-6)


def test_itemknn_cosine_and_pruning():
    m = ItemKNNRecommender(k=3)
    m.fit(make_dataset(ROWS))
    norms = np.sqrt(X.sum(axis=0))
    S = (X.T @ X) / np.outer(norms, norms)
    np.fill_diagonal(S, 0)
    np.testing.assert_allclose(m.score(np.array([0])), S[0], rtol=1e-6)
    np.testing.assert_allclose(m.score(np.array([0, 3])), S[0] + S[3], rtol=1e-6)
    # k=1: each target keeps only its most similar source item
    m1 = ItemKNNRecommender(k=1)
    m1.fit(make_dataset(ROWS))
    # target 2 (column 2): sims 1/sqrt2 (item 0), 1/sqrt3 (item 1) -> keeps item 0 only
    assert m1.score(np.array([1]))[2] == 0.0
    assert m1.score(np.array([0]))[2] == pytest.approx(S[0, 2])


@pytest.fixture(scope="module")
def demo_split(demo_store):
    return time_split(load_dataset(demo_store, DEMO_NAME))


def test_ease_and_itemknn_beat_mostpopular_on_demo(demo_split):
    res = evaluate_baselines(demo_split, ks=(10,))
    pop = res["popularity"]["ndcg@10"]
    assert res["ease"]["ndcg@10"] > pop + 2 * res["ease"]["ndcg_se@10"]
    assert res["itemknn"]["ndcg@10"] > pop
    for m in res.values():
        assert m["n_users"] == demo_split.stats["evaluated_users"] > 1000
        assert 0 <= m["ild_genre@10"] <= 1 and 0 < m["coverage@10"] <= 1
    assert res["ease"]["ild_model@10"] is not None and res["popularity"]["ild_model@10"] is None
    assert sum(g["n_users"] for g in res["ease"]["by_activity"].values()) == res["ease"]["n_users"]


def test_too_large_catalogue_refused_clearly(monkeypatch):
    from engine.errors import EngineError
    from engine.models import base
    monkeypatch.setattr(base, "MAX_DENSE_ITEMS", 3)
    with pytest.raises(EngineError, match="dense 4 x 4"):
        EASERecommender().fit(make_dataset(ROWS))
    with pytest.raises(EngineError, match="ItemKNN"):
        ItemKNNRecommender().fit(make_dataset(ROWS))
