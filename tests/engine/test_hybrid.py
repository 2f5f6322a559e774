""""LSTM + EASE": the blend weight is the best on validation, the blend equals its definition, and it
saves and loads (numpy only)."""
from __future__ import annotations

import numpy as np
import pytest

from engine.data.split import time_split

from .test_lstm import TINY, tiny_dataset

pytestmark = pytest.mark.slow   # TensorFlow training: the full tier only (`pytest -m "not slow"` skips it)


def test_lstm_ease_blend_chosen_on_validation(tmp_path):
    from engine.models.hybrid import WEIGHTS, LSTMEASERecommender, standardise
    from engine.models.registry import get_model_class
    split = time_split(tiny_dataset())
    model = get_model_class("lstm_ease")(**{**TINY, "epochs": 2, "patience": 1, "refit": True}, ease_l2=20.0)
    model.fit(split.train)
    assert [w for w, _ in model.blend_table] == list(WEIGHTS) and model.ease_l2 == 20.0
    best = max(v for _, v in model.blend_table)
    assert dict(model.blend_table)[model.weight] == best
    hist = [split.history(int(u)) for u in split.test_users[:5]]
    items, ratings = [h[0] for h in hist], [h[1] for h in hist]
    expected = model.weight * standardise(model.lstm.score_many(items, ratings)) + \
        (1 - model.weight) * standardise(model.ease.score_many(items, ratings))
    np.testing.assert_allclose(model.score_many(items, ratings), expected, rtol=1e-5, atol=1e-5)
    assert np.allclose(standardise(expected).std(axis=1), 1.0, atol=1e-3)
    model.save(tmp_path / "m")
    loaded = LSTMEASERecommender.load(tmp_path / "m")
    assert loaded.weight == model.weight and loaded.n_items == 120
    np.testing.assert_allclose(loaded.score_many(items, ratings), model.score_many(items, ratings), rtol=1e-4,
                               atol=1e-4)
