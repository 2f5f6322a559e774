"""Runs: fit_baseline registers a complete run, load_run gives back the same model and split,
failures and cancels leave neither files nor rows."""
from __future__ import annotations

import numpy as np
import pytest

from engine.data.demo import create_demo_dataset
from engine.errors import CancelledError
from engine.jobs.cancel import CancelToken
from engine.runs.baselines import fit_baseline
from engine.runs.loaded import load_run
from engine.store import repository as repo
from engine.types import StepProgress

MINI = "mini"


@pytest.fixture
def mini_store(any_store):
    store = any_store
    create_demo_dataset(store, MINI, n_items=150, n_users=120, seed=3)
    return store


def _run_dirs(store):
    root = store.artifact_root / "runs"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_fit_baseline_registers_and_loads_back(mini_store):
    updates = []
    run_id = fit_baseline(mini_store, MINI, "ease", progress=updates.append)
    assert any(isinstance(u, StepProgress) for u in updates)
    with mini_store.session() as s:
        info = repo.get_run(s, run_id)
    assert info.model == "ease" and info.holdout and info.metrics["ndcg@10"] is not None
    assert info.config["positive_threshold"] == 4.0 and info.config["l2"] > 0
    assert (mini_store.artifact_root / info.artifact_dir / "model.npz").exists()
    loaded = load_run(mini_store, run_id)
    assert loaded.split is not None and loaded.split.stats == info.metrics["split"]
    user = int(loaded.split.test_users[0])
    items, scores = loaded.recommend(user, 10)
    seen = set(loaded.history(user)[0].tolist())
    assert len(items) == 10 and not seen & set(items.tolist())
    assert np.all(np.diff(scores) <= 0)
    # whole history: nothing the user ever interacted with comes back
    whole = set(loaded.history(user, whole=True)[0].tolist())
    items_w, _ = loaded.recommend(user, 10, whole=True)
    assert not whole & set(items_w.tolist()) and len(whole) > len(seen)
    pool, _ = loaded.recommend(user, 10, candidates=50)
    assert len(pool) == 50 and pool[:10].tolist() == items.tolist()
    many, _ = loaded.recommend_many(np.array([user]), 10)
    assert many[0].tolist() == items.tolist()


def test_no_holdout_learns_everything_and_has_no_metrics(mini_store):
    run_id = fit_baseline(mini_store, MINI, "popularity", holdout=False)
    loaded = load_run(mini_store, run_id)
    assert loaded.split is None and loaded.info.metrics == {}
    ds = loaded.dataset
    pos = ds.positive_mask()
    assert loaded.model.counts.sum() == len(set(zip(ds.user_idx[pos].tolist(), ds.item_idx[pos].tolist())))


def test_failed_register_leaves_nothing(mini_store, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("disk full")
    monkeypatch.setattr(repo, "register_run", boom)
    with pytest.raises(RuntimeError):
        fit_baseline(mini_store, MINI, "itemknn")
    assert _run_dirs(mini_store) == []
    with mini_store.session() as s:
        assert repo.list_runs(s) == []


def test_cancel_leaves_nothing(mini_store):
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        fit_baseline(mini_store, MINI, "ease", cancel=token)
    assert _run_dirs(mini_store) == []
    with mini_store.session() as s:
        assert repo.list_runs(s) == []
