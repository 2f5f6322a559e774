"""run_training: a registered, reloadable run; cancel mid-epoch leaves nothing; devices; baselines delegate."""
from __future__ import annotations

import numpy as np
import pytest

from engine.errors import CancelledError, EngineError
from engine.jobs.cancel import CancelToken
from engine.runs.training import RunSummary, TrainConfig, available_devices, resolve_device, run_training
from engine.store import repository as repo
from engine.types import EpochStats

TINY = dict(epochs=2, batch_size=64, embedding_dim=16, text_dim=8, text_units=16, user_units=16, max_len=8,
            learning_rate=0.01, temperature=0.1, device="cpu", tune=False,
            extra={"max_tokens": 500, "report_every": 2})


def _with_tiny(store):
    from engine.data.dataset import write_dataset
    from engine.data.demo import generate_demo
    write_dataset(store, "tiny", **generate_demo(n_items=120, n_users=80, seed=3))
    return store


@pytest.fixture
def tiny_store(store):
    return _with_tiny(store)


@pytest.fixture
def tiny_any_store(any_store):
    """SQLite file and PostgreSQL: training registers the same run on both."""
    return _with_tiny(any_store)


def run_files(store):
    root = store.artifact_root / "runs"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_run_training_registers_a_reloadable_run(tiny_any_store):
    tiny_store = tiny_any_store
    from engine.runs.loaded import load_run
    updates = []
    summary = run_training(TrainConfig(dataset="tiny", **TINY), tiny_store, progress=updates.append)
    assert isinstance(summary, RunSummary) and summary.model == "lstm" and summary.device == "cpu"
    assert summary.device_name and summary.seconds > 0
    assert summary.metrics["n_users"] > 0 and 0 <= summary.metrics["ndcg@10"] <= 1
    epochs = [u for u in updates if isinstance(u, EpochStats) and u.batch is None]
    assert epochs and all(e.loss > 0 and e.examples_per_s > 0 for e in epochs)
    assert any(e.val_ndcg10 is not None for e in epochs)          # validation every epoch
    assert any(isinstance(u, EpochStats) and u.batch for u in updates)  # within-epoch reports
    # phases as a user reads them: "epoch i/epochs" while training, then "refit j/best" (not "epoch 3/4")
    train = [e for e in epochs if e.phase == "epoch"]
    refit = [e for e in epochs if e.phase == "refit"]
    assert [e.phase_epoch for e in train] == list(range(1, len(train) + 1))
    assert all(e.phase_epochs == TINY["epochs"] for e in train)
    assert refit and [e.phase_epoch for e in refit] == list(range(1, len(refit) + 1))
    assert all(e.phase_epochs == len(refit) for e in refit)
    with tiny_store.session() as s:
        info = repo.get_run(s, summary.run_id)
        stored_epochs = repo.run_epochs(s, summary.run_id)
    assert info.model == "lstm" and info.objective == "softmax" and info.device == "cpu"
    assert info.config["embedding_dim"] == 16 and len(stored_epochs) == len(summary.epochs)
    loaded = load_run(tiny_store, summary.run_id)
    u = int(loaded.split.test_users[0])
    items, scores = loaded.recommend(u, 10)
    hist = loaded.history(u)[0]
    assert len(items) == 10 and not np.isin(items, hist).any()
    # the same recommendations as the evaluated model: top-10 of the reloaded model's full scores
    again = loaded.model.score(*loaded.history(u))
    again[hist] = -np.inf
    assert set(items) == set(np.argsort(-again)[:10])
    assert run_files(tiny_store) == [info.artifact_dir.split("/")[-1]]


def test_cancel_mid_epoch_leaves_nothing(tiny_store):
    token = CancelToken()
    seen = []

    def progress(update):
        seen.append(update)
        if isinstance(update, EpochStats) and update.batch == 2:
            token.cancel()

    with pytest.raises(CancelledError):
        run_training(TrainConfig(dataset="tiny", **{**TINY, "epochs": 50}), tiny_store, progress=progress,
                     cancel=token)
    assert any(isinstance(u, EpochStats) and u.batch == 2 for u in seen)
    assert not any(isinstance(u, EpochStats) and u.batch is None for u in seen)  # stopped inside epoch 1
    with tiny_store.session() as s:
        assert repo.list_runs(s) == []
    assert run_files(tiny_store) == []


def test_baseline_models_delegate_to_fit_baseline(tiny_store):
    summary = run_training(TrainConfig(dataset="tiny", model="popularity"), tiny_store)
    assert summary.model == "popularity" and summary.epochs == []
    assert "ndcg@10" in summary.metrics


def test_devices():
    devices = available_devices()
    assert devices[0][0] == "cpu" and devices[0][1]
    assert resolve_device("cpu")[0] == "cpu"
    assert resolve_device("auto")[0] == ("gpu" if any(d[0] == "gpu" for d in devices) else "cpu")
    with pytest.raises(EngineError, match="device"):
        resolve_device("tpu")


def test_gpu_requested_but_none_is_a_clear_error(tiny_store):
    if any(d[0] == "gpu" for d in available_devices()):
        pytest.skip("this machine has a GPU")
    with pytest.raises(EngineError, match="GPU was requested"):
        run_training(TrainConfig(dataset="tiny", **{**TINY, "device": "gpu"}), tiny_store)
    with tiny_store.session() as s:
        assert repo.list_runs(s) == []


def test_train_config_is_plain_and_picklable():
    import pickle
    cfg = TrainConfig(dataset="x", **TINY)
    assert pickle.loads(pickle.dumps(cfg)) == cfg


def test_the_command_trains_the_models_defaults():
    """`llmrec train` and the app build a TrainConfig; its model settings must be the LSTM's own defaults
    (user LSTM 256 and patience 3 once lingered here after the model's defaults moved to 128 and 2). Only
    tuning differs: the command tunes by default, a bare model does not."""
    import dataclasses

    from engine.models.lstm.model import LSTMConfig
    model = dataclasses.asdict(LSTMConfig())
    command = TrainConfig(dataset="d").model_params()
    differ = {k: (v, model[k]) for k, v in command.items() if k in model and model[k] != v}
    assert differ == {"tune": (True, False)}


def test_no_holdout_trains_on_everything_and_registers_without_metrics(tiny_store):
    summary = run_training(TrainConfig(dataset="tiny", holdout=False, **{**TINY, "epochs": 1}), tiny_store)
    with tiny_store.session() as s:
        info = repo.get_run(s, summary.run_id)
    assert info.holdout is False and summary.metrics == {} and info.metrics == {}
