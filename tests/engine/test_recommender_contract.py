"""One contract every recommender in the registry passes (the implicit library's idea): fit/score
shapes, batched scoring equals single scoring, save/load gives identical scores, item vectors are
L2-normalised rows."""
from __future__ import annotations

import numpy as np
import pytest

from engine.data.split import time_split
from engine.models.registry import MODELS, get_model_class
from tests.engine.test_split import demo_dataset

TINY_PARAMS = {
    "popularity": {},
    "itemknn": {"k": 10},
    "ease": {"l2": 20.0},
    "als": {"factors": 8, "iterations": 5},
    "lstm": {"epochs": 1, "refit": False, "batch_size": 64, "embedding_dim": 8, "text_dim": 8, "text_units": 8,
             "user_units": 8, "max_len": 5, "max_tokens": 500},
    "lstm_ease": {"epochs": 1, "refit": False, "batch_size": 64, "embedding_dim": 8, "text_dim": 8, "text_units": 8,
                  "user_units": 8, "max_len": 5, "max_tokens": 500, "ease_l2": 20.0},
}


@pytest.fixture(scope="module")
def tiny_split():
    return time_split(demo_dataset())


@pytest.fixture(scope="module", params=sorted(MODELS))
def fitted(request, tiny_split):
    name = request.param
    try:
        cls = get_model_class(name)
    except ImportError as exc:  # a model whose module has not landed in this checkout
        pytest.skip(f"{name}: {exc}")
    model = cls(**TINY_PARAMS.get(name, {}))
    model.fit(tiny_split.train)
    return name, model


def test_name_and_shapes(fitted, tiny_split):
    name, model = fitted
    assert model.name == name
    n = tiny_split.train.n_items
    assert model.n_items == n
    items, ratings = tiny_split.history(int(tiny_split.test_users[0]))
    s = model.score(items, ratings)
    assert s.shape == (n,) and s.dtype == np.float32 and np.isfinite(s).all()
    assert model.score(np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)).shape == (n,)


def test_score_many_equals_score(fitted, tiny_split):
    _, model = fitted
    users = tiny_split.test_users[:7]
    hist = [tiny_split.history(int(u)) for u in users]
    many = model.score_many([h[0] for h in hist], [h[1] for h in hist])
    assert many.shape == (len(users), tiny_split.train.n_items)
    for r, (items, ratings) in enumerate(hist):
        np.testing.assert_allclose(many[r], model.score(items, ratings), rtol=1e-5, atol=1e-5)


def test_save_load_identical_scores(fitted, tiny_split, tmp_path):
    name, model = fitted
    model.save(tmp_path / "m")
    again = get_model_class(name).load(tmp_path / "m")
    for u in tiny_split.test_users[:5]:
        items, ratings = tiny_split.history(int(u))
        np.testing.assert_array_equal(again.score(items, ratings), model.score(items, ratings))
    v1, v2 = model.item_vectors(), again.item_vectors()
    assert (v1 is None) == (v2 is None)
    if v1 is not None:
        np.testing.assert_allclose(v1, v2, rtol=1e-6, atol=1e-6)


def test_item_vectors_normalised(fitted, tiny_split):
    _, model = fitted
    v = model.item_vectors()
    if v is None:
        return
    assert v.shape[0] == tiny_split.train.n_items and v.ndim == 2
    norms = np.linalg.norm(v, axis=1)
    # unit rows; an item that no one interacted with may have an all-zero row
    assert np.all((np.abs(norms - 1) < 1e-4) | (norms == 0))
    assert (norms > 0).mean() > 0.5
