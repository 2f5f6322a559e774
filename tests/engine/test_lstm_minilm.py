"""The LSTM two-tower with the pretrained encoder as its item text input (frozen vectors, trainable
projection): trains, cold items get a vector from their text, and it saves and loads like the LSTM."""
from __future__ import annotations

import numpy as np
import pytest

from tests.engine.test_lstm import TINY, tiny_dataset

pytestmark = pytest.mark.slow   # TensorFlow training with the pretrained encoder: the full tier only (`pytest -m "not slow"` skips it)


def test_minilm_item_tower_trains_saves_and_loads(tmp_path):
    from engine.data.split import time_split
    from engine.models.lstm.model import LSTMRecommender
    split = time_split(tiny_dataset())
    model = LSTMRecommender(**TINY, text_encoder="minilm")
    model.fit(split.train)
    losses = [e["loss"] for e in model.epochs]
    assert losses[-1] < losses[0]
    assert model.item_matrix.shape == (split.train.n_items, TINY["embedding_dim"])
    np.testing.assert_allclose(np.linalg.norm(model.item_matrix, axis=1), 1.0, atol=1e-4)
    layers = {layer.name for layer in model.keras_model.get_layer("item_tower").layers}
    assert "text_lstm" not in layers and "text_dense" in layers
    model.save(tmp_path / "m")
    loaded = LSTMRecommender.load(tmp_path / "m")
    assert loaded.config.text_encoder == "minilm"
    h, r = split.history(int(split.test_users[0]))
    np.testing.assert_allclose(loaded.score(h, r), model.score(h, r), atol=1e-5)
