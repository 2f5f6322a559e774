"""Data-parallel LSTM training on a local Ray cluster with 2 CPU workers (Ray Train's TensorflowTrainer,
tf.distribute.MultiWorkerMirroredStrategy) against the one-machine run on the same small demo data:
the workers read different shards, the all-reduce keeps their weights identical, the loss falls like
the one-machine run's, and the result is one ordinary, reloadable run."""
from __future__ import annotations

import os

import numpy as np
import pytest

from engine.errors import EngineError
from engine.runs.training import TrainConfig, run_training

pytestmark = pytest.mark.slow   # a Ray cluster of two workers: the full tier only (`pytest -m "not slow"` skips it)

# patience 0: a fixed number of epochs and one training call, so the curves compare epoch by epoch
SMALL = dict(epochs=4, batch_size=64, embedding_dim=16, text_dim=8, text_units=16, user_units=16, max_len=8,
             learning_rate=0.01, temperature=0.1, patience=0, device="cpu", tune=False,
             extra={"max_tokens": 500, "report_every": 3, "text_encoder": "lstm"})
# The 2-worker run takes half the optimizer steps per epoch (same per-worker batch), so its loss may lag.
# Measured on this data (loss 4.38 -> 4.06 on one machine, 4.60 -> 4.11 on two workers): 5% apart after
# the first epoch, 1% after the fourth. The test allows 15% at every epoch.
LOSS_TOLERANCE = 0.15


def ray_or_fail():
    try:
        import ray.train.tensorflow  # noqa: F401
    except ImportError as exc:
        why = f"Ray Train is not installed ({exc.name}); pip install -e '.[test]' installs it"
        if os.environ.get("CI"):
            pytest.fail(why, pytrace=False)
        pytest.skip(why)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    ray_or_fail()
    from engine.data.dataset import write_dataset
    from engine.data.demo import generate_demo
    from engine.store import open_store
    store = open_store(str(tmp_path_factory.mktemp("dist") / "dist.db"))
    write_dataset(store, "small demo", **generate_demo(n_items=200, n_users=150, seed=3))
    one = run_training(TrainConfig(dataset="small demo", **SMALL), store)
    updates = []
    two = run_training(TrainConfig(dataset="small demo", workers=2, **SMALL), store, progress=updates.append)
    yield store, one, two, updates
    store.close()


def test_two_workers_read_different_shards_and_end_with_identical_weights(runs):
    store, one, two, _ = runs
    from engine.store import repository as repo
    with store.session() as s:
        info = repo.get_run(s, two.run_id)
    d = info.config["distributed"]
    assert d["workers"] == 2 and d["address"] == "local"
    assert d["shards_read_as_assigned"]                   # each worker read the shard it was given...
    assert len(set(d["shard_digests"])) == 2              # ...and the two shards differ
    n1, n2 = d["examples_per_worker"]
    assert n1 == n2 > 0
    assert d["weights_identical"]                          # different data, same weights: the all-reduce


def test_loss_falls_like_the_one_machine_run(runs):
    _, one, two, updates = runs
    l1 = [e["loss"] for e in one.epochs]
    l2 = [e["loss"] for e in two.epochs]
    assert len(l1) == len(l2) == SMALL["epochs"]
    assert l2[-1] < 0.95 * l2[0] and l1[-1] < 0.95 * l1[0], (l1, l2)
    assert all(abs(b - a) / a < LOSS_TOLERANCE for a, b in zip(l1, l2)), (l1, l2)
    # progress from the workers reached the caller: within-epoch steps and every epoch's end
    ends = [u.epoch for u in updates if getattr(u, "batch", 0) is None]
    assert ends == list(range(1, SMALL["epochs"] + 1))
    assert any(getattr(u, "batch", None) for u in updates)


def test_the_result_is_one_ordinary_run(runs):
    store, _, two, _ = runs
    from engine.runs.loaded import load_run
    assert two.metrics.get("ndcg@10") is not None and two.device == "cpu" and "2 Ray workers" in two.device_name
    run = load_run(store, two.run_id)
    scores = run.model.score(np.array([1, 2, 3]))
    assert scores.shape == (run.dataset.n_items,) and np.isfinite(scores).all()
    assert (store.artifact_root / run.info.artifact_dir / "model.keras").exists()


def test_shards_are_a_disjoint_equal_partition():
    from engine.runs.distributed import shard_rows
    parts = shard_rows(1001, 3, seed=1)
    assert [len(p) for p in parts] == [333, 333, 333]
    allrows = np.concatenate(parts)
    assert len(np.unique(allrows)) == 999 and allrows.max() < 1001


def test_without_ray_workers_say_what_to_install(monkeypatch, store):
    import sys
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(EngineError, match=r"pip install -e '\.\[distributed\]'"):
        run_training(TrainConfig(dataset="any", workers=2), store)


def test_workers_apply_to_the_lstm_only(store):
    with pytest.raises(EngineError, match="--workers applies to the LSTM"):
        run_training(TrainConfig(dataset="any", model="ease", workers=2), store)
