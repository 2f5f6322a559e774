"""LSTM tuning on the validation split (Optuna): trial 1 is the given settings, every finished trial is
reported with its validation NDCG@10, the chosen settings are the best on validation, the refit uses the
chosen trial's epoch count, and the trials are saved with the model. Also the training knobs the search
uses (dropout) trains and scores."""
from __future__ import annotations

import numpy as np
import pytest

from engine.types import EpochStats, TrialStats

from .test_lstm import TINY, tiny_dataset

pytestmark = pytest.mark.slow   # TensorFlow training (tuning trials): the full tier only (`pytest -m "not slow"` skips it)


@pytest.fixture(scope="module")
def split():
    from engine.data.split import time_split
    return time_split(tiny_dataset())


def test_tuning_reports_trials_and_keeps_the_best_on_validation(split, tmp_path):
    from engine.models.lstm.model import LSTMRecommender
    updates = []
    base = {**TINY, "epochs": 2, "patience": 2, "refit": True}
    model = LSTMRecommender(**base, tune=True, max_trials=2, budget_s=3600)
    model.fit(split.train, progress=updates.append)
    trials = [u for u in updates if isinstance(u, TrialStats)]
    assert [t.trial for t in trials] == [1, 2]
    first = trials[0].params
    assert first["embedding_dim"] == 16 and first["max_len"] == 8 and first["dropout"] == 0.0
    assert {t.params["embedding_dim"] for t in trials} <= {16, 64, 128, 256}
    done = [t for t in trials if t.state == "complete"]
    chosen = max(done, key=lambda t: t.val_ndcg10)
    assert trials[-1].best_trial == chosen.trial and trials[-1].best_val_ndcg10 == chosen.val_ndcg10
    assert all(0.0 <= t.val_ndcg10 <= 1.0 for t in done)
    for key, value in chosen.params.items():             # the model now carries the chosen settings
        assert getattr(model.config, key) == value
    # epochs: the chosen trial's (validation) epochs, then a refit of its best epoch count
    assert len(model.epochs) == len([e for e in model.validation_fit.epochs]) + model.validation_fit.best_epoch
    assert any(isinstance(u, EpochStats) and u.val_ndcg10 is not None for u in updates)
    model.save(tmp_path / "m")
    loaded = LSTMRecommender.load(tmp_path / "m")
    assert [t["trial"] for t in loaded.trials] == [1, 2]
    h = split.history(int(split.test_users[0]))
    np.testing.assert_allclose(loaded.score(*h), model.score(*h), rtol=1e-5, atol=1e-5)


def test_dropout_trains_and_scores(split):
    from engine.models.lstm.model import LSTMRecommender
    model = LSTMRecommender(**{**TINY, "epochs": 2}, dropout=0.3)
    model.fit(split.train)
    assert all(np.isfinite(e["loss"]) and e["loss"] > 0 for e in model.epochs)
    scores = model.score(*split.history(int(split.test_users[0])))
    assert scores.shape == (120,) and np.isfinite(scores).all()


def test_after_the_defaults_trials_move_one_knob_then_combine_the_winners():
    from engine.models.lstm.model import LSTMConfig
    from engine.models.lstm.tuning import base_point, combined_point, one_knob_points
    base = LSTMConfig()
    start = base_point(base, 0)
    points = one_knob_points(base)
    assert len(points) == 6
    for point in points:                                  # each differs from the base in exactly one knob
        assert sum(point[k] != start[k] for k in start) == 1
    assert {k for p in points for k in p if p[k] != start[k]} == set(start)
    dropout, longer = points[0], points[3]
    assert longer["max_len"] == 50 and dropout["dropout"] == 0.2
    # only the moves that beat the base are combined, and only when two or more did
    results = [(p, 0.10) for p in points]
    results[3], results[0] = (longer, 0.12), (dropout, 0.11)
    assert combined_point(base, results, 0.105) == {**start, "max_len": 50, "dropout": 0.2}
    assert combined_point(base, results, 0.115) is None
    # a base at the edge of a range moves the other way
    edge = one_knob_points(LSTMConfig(max_len=50, embedding_dim=256))
    assert edge[3]["max_len"] == 10 and edge[1]["embedding_dim"] == 64
