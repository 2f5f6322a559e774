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


def test_item_tower_takes_the_static_encoder_above_the_search_threshold(store, monkeypatch):
    """The training picks its text input by search's size rule: with the threshold below the catalogue's
    size, auto takes minilm-static (cached like search's vectors), records it and says so in progress."""
    from engine.data.split import time_split
    from engine.encoder import catalogue
    from engine.models.lstm.model import LSTMRecommender
    split = time_split(tiny_dataset())
    monkeypatch.setattr(catalogue, "STATIC_THRESHOLD", split.train.n_items - 1)
    model = LSTMRecommender(**{**TINY, "epochs": 1}, text_encoder="minilm")
    model.catalogue_store = store
    stages = []
    model.fit(split.train, progress=lambda u: stages.append(getattr(u, "stage", "")))
    assert model.params()["item_encoder"] == "minilm-static"
    assert "encoding item texts (minilm-static)" in stages
    assert catalogue.cache_path(store, split.train.info.id, "minilm-static").exists()
    assert not catalogue.cache_path(store, split.train.info.id, "all-MiniLM-L6-v2").exists()
    assert np.isfinite(model.item_matrix).all()
    forced = LSTMRecommender(**{**TINY, "epochs": 1}, text_encoder="minilm", item_encoder="minilm")
    assert forced.params()["item_encoder"] == "minilm"
    with pytest.raises(Exception, match="unknown item encoder"):
        LSTMRecommender(**TINY, item_encoder="bert")
