"""LSTM tuning on the validation split (Optuna): trial 1 is the given settings, every finished trial is
reported with its validation NDCG@10, the chosen settings are the best on validation, the refit uses the
chosen trial's epoch count, and the trials are saved with the model. Also the training knobs the search
uses (dropout) trains and scores. The work budget: successive halving over epochs stops the settings
behind at epochs 1 and 3 (a scripted trainer, no TensorFlow training), and two runs with the same seed
try the same settings and choose the same one (real training on a tiny dataset)."""
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
    model = LSTMRecommender(**base, tune=True, max_trials=2)
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
    # epochs: the chosen trial's (validation) epochs, then one refit epoch continuing its towers
    assert len(model.epochs) == len(model.validation_fit.epochs) + 1
    assert [e["val_ndcg10"] is None for e in model.epochs][-2:] == [False, True]
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
    dropout, shorter = points[0], points[3]
    assert shorter["max_len"] == 10 and dropout["dropout"] == 0.2      # the cheaper history, not 50
    # only the moves that beat the base are combined, and only when two or more did
    results = [(p, 0.10) for p in points]
    results[3], results[0] = (shorter, 0.12), (dropout, 0.11)
    assert combined_point(base, results, 0.105) == {**start, "max_len": 10, "dropout": 0.2}
    assert combined_point(base, results, 0.115) is None
    # a base at the edge of a range moves the other way
    edge = one_knob_points(LSTMConfig(max_len=10, embedding_dim=256))
    assert edge[3]["max_len"] == 20 and edge[1]["embedding_dim"] == 64


def _scripted_trainer(quality, calls):
    """A stand-in for train_towers: validation NDCG@10 = quality(params) * (1 - 0.5 ** epoch), reported
    each epoch through `progress` exactly as the real loop reports it (so the pruner sees the same)."""
    from engine.models.lstm.trainer import Fitted

    def fake(cfg, train, tokens, *, epochs, validation, progress, **_kw):
        q = quality(cfg)
        calls.append(cfg)
        log = []
        for e in range(1, epochs + 1):
            v = q * (1 - 0.5 ** e)
            log.append(dict(epoch=e, loss=1.0, val_recall10=v, val_ndcg10=v, examples_per_s=1.0, seconds=0.0))
            progress(EpochStats(epoch=e, epochs=epochs, loss=1.0, val_ndcg10=v, val_recall10=v))
        return Fitted(item_matrix=np.zeros((1, 1), np.float32), user_tower=None, scale=1.0, offset=0.0,
                      keras_model=None, epochs=log, best_epoch=epochs)
    return fake


def _tiny_val():
    from engine.data.split import time_split, validation_split
    from engine.models.lstm.examples import training_arrays
    val = validation_split(time_split(tiny_dataset()).train)
    return val, training_arrays(val.train)


def test_successive_halving_stops_the_settings_behind_early(monkeypatch):
    from engine.models.lstm import tuning
    from engine.models.lstm.model import LSTMConfig
    base = LSTMConfig(epochs=9)
    # dropout 0.2 and a shorter history beat the base; the other moves are behind it at every epoch
    quality = lambda c: 0.30 + 0.02 * (c.dropout > 0) + 0.01 * (c.max_len == 10) - 0.05 * (c.embedding_dim != 128)
    calls, updates = [], []
    monkeypatch.setattr(tuning, "train_towers", _scripted_trainer(quality, calls))
    val, arrays = _tiny_val()
    result = tuning.tune_lstm(base, val, np.zeros((121, 4), np.float32), trials=8, progress=updates.append,
                              arrays=arrays)
    trials = [u for u in updates if isinstance(u, TrialStats)]
    assert len(trials) == 8 and trials[0].state == "complete" and trials[0].best_epoch == 9   # the base: all epochs
    behind = [t for t in trials[1:7] if quality(LSTMConfig(**{**base.__dict__, **t.params})) < quality(base)]
    assert behind and all(t.state == "pruned" and t.best_epoch == 1 for t in behind)          # out at rung 1
    # trial 8 combines the two moves that won at the same epoch, and it is the best: chosen
    assert trials[7].params["dropout"] == 0.2 and trials[7].params["max_len"] == 10
    assert result.config.dropout == 0.2 and result.config.max_len == 10 and trials[-1].best_trial == 8
    assert result.epochs_trained < 8 * 9                 # the work successive halving saved
    assert result.epochs_trained == sum(t.best_epoch if t.state == "pruned" else 9 for t in trials)
    assert all(t.budget_s == 0.0 for t in trials)        # no seconds bound by default


def test_a_seconds_bound_stops_after_the_base(monkeypatch):
    from engine.models.lstm import tuning
    from engine.models.lstm.model import LSTMConfig
    calls = []
    monkeypatch.setattr(tuning, "train_towers", _scripted_trainer(lambda c: 0.3, calls))
    val, arrays = _tiny_val()
    result = tuning.tune_lstm(LSTMConfig(epochs=3), val, np.zeros((121, 4), np.float32), trials=8, budget_s=1e-9,
                              arrays=arrays)
    assert len(calls) == 1 and len(result.trials) == 1 and result.trials[0].state == "complete"


def test_the_same_seed_tries_the_same_settings_and_chooses_the_same(split):
    """The default work budget has no clock in it: two runs agree trial by trial (figures included)."""
    from engine.models.lstm.model import LSTMRecommender

    def run():
        model = LSTMRecommender(**{**TINY, "epochs": 4, "patience": 2, "refit": False}, tune=True, max_trials=5)
        model.fit(split.train)
        return [(t["params"], t["state"], t["best_epoch"], t["val_ndcg10"]) for t in model.trials], model.config

    first, again = run(), run()
    assert first[0] == again[0] and first[1] == again[1]
    assert len(first[0]) == 5 and first[0][0][0]["embedding_dim"] == 16


def test_the_command_has_no_seconds_budget_unless_asked():
    """`llmrec train`: no wall-clock bound by default; --tune-budget (or its old name --budget) sets one."""
    from engine.cli.main import build_parser
    from engine.runs.training import TrainConfig
    parse = build_parser().parse_args
    assert parse(["train", "--dataset", "d"]).budget is None and TrainConfig(dataset="d").budget_s == 0.0
    assert parse(["train", "--dataset", "d", "--tune-budget", "300"]).budget == 300
    assert parse(["train", "--dataset", "d", "--budget", "120", "--trials", "12"]).budget == 120
