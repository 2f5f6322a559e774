"""The simulator with an LSTM system (issue 23): update "warm" trains the towers further between rounds (in
memory), reproducibly with a seed; a cancelled warm-started simulation leaves no simulation, run or file.
Real TensorFlow on a tiny world (tiny dims, 1 epoch)."""
from __future__ import annotations

import numpy as np
import pytest

from engine.data.split import time_split
from engine.errors import CancelledError
from engine.jobs.cancel import CancelToken
from engine.simulation.loop import LoopSettings, World, parse_policy, simulate
from engine.simulation.oracle import fit_oracle, true_utility
from engine.simulation.space import item_space
from engine.simulation.updates import WARM_STAGE, warm_function
from tests.engine.test_lstm import TINY, tiny_dataset

pytestmark = pytest.mark.slow   # TensorFlow training: the full tier only (`pytest -m "not slow"` skips it)

LSTM = {**TINY, "epochs": 1, "text_encoder": "lstm"}
POLICIES = [parse_policy("mmr:0"), parse_policy("dpp:0.5")]


@pytest.fixture(scope="module")
def lstm_world():
    """The tiny demo catalogue, an EASE oracle on everything, an LSTM fitted on TRAIN (1 epoch)."""
    from engine.models.lstm.model import LSTMRecommender
    ds = tiny_dataset()
    train = time_split(ds).train
    model = LSTMRecommender(**LSTM)
    model.fit(train)
    users = np.flatnonzero(np.bincount(train.user_idx[train.positive_mask()], minlength=ds.n_users) > 0)[:40]
    utility = true_utility(fit_oracle(ds, "ease", {"l2": 10.0}), ds, users)
    return train, users, utility, model


def _world(lstm_world, updated: list | None = None) -> World:
    train, users, utility, model = lstm_world
    warm = warm_function(model, run_dir=None, run_id=0)       # a model fitted here has its Keras towers

    def recording(previous, data):
        fresh = warm(previous, data)
        if updated is not None:
            updated.append((previous, fresh))
        return fresh
    return World(train=train, users=users, utility=utility, space=item_space("model", dataset=train, model=model),
                 model=model, warm=recording)


def test_warm_start_changes_the_system_between_rounds(lstm_world):
    settings = dict(rounds=3, k=5, candidates=30, update_every=1, seed=7)
    updated: list = []
    warm = simulate(_world(lstm_world, updated), POLICIES, LoopSettings(**settings, update="warm"))
    kept = simulate(_world(lstm_world), POLICIES, LoopSettings(**settings, update="none"))
    assert len(updated) == 2 * len(POLICIES)                 # after rounds 1 and 2, per policy
    for previous, fresh in updated:
        assert fresh is not previous and fresh.n_items == previous.n_items
        assert not np.allclose(fresh.item_vectors(), previous.item_vectors(), atol=1e-4)   # the item tower moved
        probe = [np.array([1, 2, 3]), np.array([4, 5])]
        assert not np.allclose(fresh.user_vectors(probe), previous.user_vectors(probe), atol=1e-4)
    # round 1 is before any update: the same lists and choices; after it the warm-started system differs
    for w, k in zip(warm, kept):
        assert w.lists[0] == k.lists[0] and w.chosen[0] == k.chosen[0]
        np.testing.assert_equal(w.metrics[0], k.metrics[0])      # NaN (nobody chose) equal to NaN
    assert any(w.lists[r] != k.lists[r] for w, k in zip(warm, kept) for r in (1, 2))


def test_warm_start_is_reproducible_with_a_seed(lstm_world):
    settings = LoopSettings(rounds=2, k=5, candidates=30, update_every=1, update="warm", seed=3)
    a = simulate(_world(lstm_world), POLICIES, settings)
    b = simulate(_world(lstm_world), POLICIES, settings)
    np.testing.assert_equal([r.metrics for r in a], [r.metrics for r in b])     # NaN (nobody chose) equal to NaN
    assert [r.lists for r in a] == [r.lists for r in b] and [r.chosen for r in a] == [r.chosen for r in b]


def test_the_lstm_reads_histories_in_time_order(lstm_world):
    """What a user consumed last is the end of their sequence (the LSTM reads the last L in time order)."""
    from engine.simulation.scoring import Sequences
    train, users, _, _ = lstm_world
    seq = Sequences(train, users)
    consumed = np.array([[5, -1, 2], [-1, -1, -1]])
    items, ratings = seq.block(0, 2, consumed)
    mine = train.user_idx == users[0]
    n = int(mine.sum())
    when = dict(zip(train.item_idx[mine].tolist(), train.timestamp[mine].tolist()))   # (user, item) pairs are unique
    assert n > 1 and sorted(items[0][:n].tolist()) == sorted(when)                   # TRAIN first ...
    assert np.all(np.diff([when[i] for i in items[0][:n].tolist()]) >= 0)             # ... in time order
    assert items[0][n:].tolist() == [5, 2]                       # then the consumed, round by round, unrated
    assert np.isnan(ratings[0][n:]).all() and not np.isnan(ratings[0][:n]).any()
    assert len(items[1]) == int((train.user_idx == users[1]).sum())


def test_cancel_during_a_warm_start_leaves_nothing(tmp_path):
    """A stored LSTM run simulated with update warm, cancelled during the first warm start: no simulation,
    no new run, no new or changed file under the artifacts."""
    from engine.data.dataset import write_dataset
    from engine.data.demo import generate_demo
    from engine.runs.queries import list_runs
    from engine.runs.training import TrainConfig, run_training
    from engine.simulation.service import SimulationRequest, list_simulations, run_simulation
    from engine.store import open_store
    store = open_store(str(tmp_path / "sim.db"), artifacts=tmp_path / "art")
    d = generate_demo(n_items=120, n_users=80, seed=3)
    write_dataset(store, "tiny", user_ids=d["user_ids"], item_ids=d["item_ids"], titles=d["titles"], genres=d["genres"],
                  descriptions=d["descriptions"], user_idx=d["user_idx"], item_idx=d["item_idx"], rating=d["rating"],
                  timestamp=d["timestamp"], rating_min=1.0, rating_max=5.0, positive_threshold=4.0,
                  source={"kind": "test"})
    params = {k: v for k, v in LSTM.items() if k not in ("epochs", "patience", "refit")}
    run_id = run_training(TrainConfig(dataset="tiny", model="lstm", epochs=1, patience=0, refit=False, tune=False,
                                      device="cpu", extra=params), store).run_id
    files = {p: p.stat().st_mtime_ns for p in (tmp_path / "art").rglob("*")}
    runs = [r.id for r in list_runs(store)]
    token, stages = CancelToken(), []

    def progress(update):
        stages.append(getattr(update, "stage", ""))
        if getattr(update, "stage", "").startswith(WARM_STAGE):
            token.cancel()
    request = SimulationRequest(run_id=run_id, policies=("mmr:0", "dpp:0.5"), users=30, rounds=3, k=5, candidates=30,
                                update_every=1, update="warm", seed=0)
    try:
        with pytest.raises(CancelledError):
            run_simulation(store, request, progress=progress, cancel=token)
        assert any(s.startswith(WARM_STAGE) for s in stages)
        assert list_simulations(store) == []
        assert [r.id for r in list_runs(store)] == runs
        assert {p: p.stat().st_mtime_ns for p in (tmp_path / "art").rglob("*")} == files
    finally:
        store.close()
