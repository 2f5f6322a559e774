"""The LSTM two-tower model: numpy inference equals Keras, save/load without TensorFlow, loss falls,
cold-start items get text vectors."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from engine.data.dataset import Dataset
from engine.data.split import time_split
from engine.types import DatasetInfo

pytestmark = pytest.mark.slow   # TensorFlow training: the full tier only (`pytest -m "not slow"` skips it)

TINY = dict(epochs=3, patience=0, refit=False, batch_size=64, embedding_dim=16, text_dim=8, text_units=16,
            user_units=16, max_len=8, max_tokens=500, learning_rate=0.01, temperature=0.1)


def tiny_dataset(n_items: int = 120, n_users: int = 80, seed: int = 3) -> Dataset:
    from engine.data.demo import generate_demo
    d = generate_demo(n_items=n_items, n_users=n_users, seed=seed)
    info = DatasetInfo(1, "tiny", n_users, n_items, len(d["user_idx"]), 1.0, 5.0, 4.0)
    return Dataset(info, np.array(d["user_ids"], dtype=object), np.array(d["item_ids"], dtype=object), d["titles"],
                   d["genres"], d["descriptions"], d["user_idx"], d["item_idx"], d["rating"], d["timestamp"], 4.0)


@pytest.fixture(scope="module")
def split():
    return time_split(tiny_dataset())


@pytest.fixture(scope="module", params=["softmax", "paper"])
def fitted(request, split):
    from engine.models.lstm.model import LSTMRecommender
    model = LSTMRecommender(**TINY, objective=request.param)
    model.fit(split.train)
    return model


def test_loss_falls_and_epochs_logged(fitted):
    losses = [e["loss"] for e in fitted.epochs]
    assert len(losses) == 3 and all(np.isfinite(losses))
    assert losses[-1] < losses[0]
    assert all(e["examples_per_s"] > 0 and e["seconds"] > 0 for e in fitted.epochs)


def test_numpy_user_tower_equals_keras(fitted, split):
    """The exported numpy LSTM gives the Keras user tower's vectors and scores (~1e-5)."""
    from engine.models.lstm.sequences import user_inputs, window
    user = fitted.keras_model.get_layer("user_tower")
    hs = [split.history(int(u)) for u in split.test_users[:16]]
    rows = [window(h[0], h[1], fitted.config.max_len, 1.0, 5.0) for h in hs]
    seq, _ = user_inputs(fitted.item_matrix, np.stack([r[0] for r in rows]), np.stack([r[1] for r in rows]))
    u_tf = np.asarray(user(seq, training=False))
    np.testing.assert_allclose(fitted.user_vectors([h[0] for h in hs], [h[1] for h in hs]), u_tf, atol=1e-5)
    scores_tf = fitted.scale * (u_tf @ fitted.item_matrix.T) + fitted.offset
    scores_np = fitted.score_many([h[0] for h in hs], [h[1] for h in hs])
    np.testing.assert_allclose(scores_np, scores_tf, rtol=1e-5, atol=1e-4 * max(1.0, abs(fitted.scale)))


def test_item_matrix_is_the_item_tower_and_unit_norm(fitted, split):
    v = fitted.item_vectors()
    assert v.shape == (split.train.n_items, fitted.config.embedding_dim)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert np.isfinite(v).all()


def test_cold_start_item_gets_a_text_vector(split):
    """An item never seen in training still gets a distinct vector from its text alone."""
    from engine.models.lstm.model import LSTMRecommender
    train = split.train
    seen = np.unique(train.item_idx)
    cold = np.setdiff1d(np.arange(train.n_items), seen)
    if len(cold) < 2:  # make two items cold by dropping their interactions
        cold = seen[:2]
        train = train.subset(~np.isin(train.item_idx, cold))
    model = LSTMRecommender(**{**TINY, "epochs": 1})
    model.fit(train)
    v = model.item_vectors()[cold[:2]]
    assert np.isfinite(v).all() and np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(v[0], v[1])


def test_save_load_same_scores_without_tensorflow(fitted, split, tmp_path):
    fitted.save(tmp_path / "m")
    assert {"model.npz", "model.json", "vocabulary.json", "model.keras"} <= {p.name for p in (tmp_path / "m").iterdir()}
    u = int(split.test_users[0])
    items, ratings = split.history(u)
    expected = fitted.score(items, ratings)
    np.save(tmp_path / "items.npy", items)
    np.save(tmp_path / "ratings.npy", ratings)
    code = textwrap.dedent(f"""
        import sys, numpy as np
        from engine.models.lstm.model import LSTMRecommender
        m = LSTMRecommender.load({str(tmp_path / 'm')!r})
        s = m.score(np.load({str(tmp_path / 'items.npy')!r}), np.load({str(tmp_path / 'ratings.npy')!r}))
        np.save({str(tmp_path / 'got.npy')!r}, s)
        assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'load/score imported TensorFlow'
    """)
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(__import__("pathlib").Path(__file__).parents[2]))
    np.testing.assert_allclose(np.load(tmp_path / "got.npy"), expected, rtol=1e-6, atol=1e-6)


def test_keras_file_loads_in_safe_mode(fitted, tmp_path):
    import keras
    fitted.save(tmp_path / "m")
    model = keras.saving.load_model(tmp_path / "m" / "model.keras", safe_mode=True)
    assert {layer.name for layer in model.layers} >= {"item_tower", "user_tower", "head"}


def test_training_is_reproducible_with_a_seed(split):
    from engine.models.lstm.model import LSTMRecommender
    a = LSTMRecommender(**{**TINY, "epochs": 1})
    b = LSTMRecommender(**{**TINY, "epochs": 1})
    a.fit(split.train)
    b.fit(split.train)
    np.testing.assert_allclose(a.item_vectors(), b.item_vectors(), atol=1e-4)


def test_unknown_objective_is_a_clear_error():
    from engine.errors import EngineError
    from engine.models.lstm.model import LSTMRecommender
    with pytest.raises(EngineError, match="objective"):
        LSTMRecommender(objective="nope")


@pytest.mark.parametrize("warm", [True, False])
def test_refit_continues_the_chosen_towers_for_one_epoch(split, warm):
    """The refit on all of TRAIN starts from the towers chosen on validation and trains one epoch (warm);
    with warm_refit off it starts from fresh towers for the best epoch count. The refit is run for zero
    epochs here, so its towers are exactly what it started from."""
    from engine.models.lstm.model import LSTMRecommender
    from engine.models.lstm.trainer import train_towers
    calls = []

    def spy(cfg, train, tokens, **kw):
        calls.append(dict(epochs=kw["epochs"], warm=kw.get("warm") is not None, validation=kw["validation"]))
        if kw["validation"] is None:
            kw["epochs"] = 0
        return train_towers(cfg, train, tokens, **kw)

    model = LSTMRecommender(**{**TINY, "epochs": 3, "patience": 3, "refit": True, "warm_refit": warm})
    model.tower_trainer = spy
    model.fit(split.train)
    chosen = model.validation_fit
    assert [c["validation"] is None for c in calls] == [False, True]
    assert calls[1]["epochs"] == (1 if warm else chosen.best_epoch) and calls[1]["warm"] is warm
    same = np.allclose(model.item_matrix, chosen.item_matrix, atol=1e-6)
    assert same is warm
