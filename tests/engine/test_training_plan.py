"""The plan said before a training (issue 22, item 3): what it will do (encode N texts, tune for the budget,
K epochs) and roughly how long, from figures measured on this machine, and honest when there are none."""
from __future__ import annotations

from engine.data.demo import DEMO_NAME, create_demo_dataset
from engine.runs.baselines import fit_baseline
from engine.runs.plan import training_plan
from engine.runs.training import TrainConfig
from engine.store import repository as repo
from engine.store import timings


def test_plan_says_what_and_how_long(store):
    create_demo_dataset(store, n_items=150, n_users=90)
    first = training_plan(store, TrainConfig(dataset=DEMO_NAME, model="lstm", epochs=5, budget_s=600))
    what = [s.what for s in first.steps]
    assert what[0] == "encode 150 item texts (all-MiniLM-L6-v2)" and first.steps[0].seconds is None
    assert what[1] == "tune on validation for up to 10 min (8 settings, successive halving over epochs)"
    assert first.steps[1].seconds == 600
    default = training_plan(store, TrainConfig(dataset=DEMO_NAME, model="lstm", epochs=5, max_trials=5))
    assert default.steps[1].what == "tune on validation (5 settings, successive halving over epochs)"
    assert default.steps[1].seconds is None            # a work budget: no time until measured
    assert what[2].startswith("train up to 5 epochs") and first.seconds is None
    assert "not been measured on this machine yet" in first.describe()

    timings.record(store, "encode:all-MiniLM-L6-v2", 300, 60.0)      # 5 texts/s measured here
    with store.session() as s:
        ds_id = repo.get_dataset(s, DEMO_NAME).id
        n = repo.get_dataset(s, DEMO_NAME).n_interactions
    with store.write_session() as s:                                 # an earlier LSTM run: 10 s epochs
        repo.register_run(s, dataset_id=ds_id, model="lstm", objective="softmax", config={}, holdout=True,
                          device="cpu", device_name="CPU", seconds=50.0, metrics={}, artifact_dir=None,
                          epochs=[{"epoch": e, "loss": 1.0, "seconds": 10.0, "val_ndcg10": 0.1 if e <= 3 else None}
                                  for e in (1, 2, 3, 4, 5)])                 # 3 epochs, then a refit of 2
    plan = training_plan(store, TrainConfig(dataset=DEMO_NAME, model="lstm", epochs=5, tune=False))
    assert [s.seconds for s in plan.steps] == [30.0, 30.0, 10.0]     # 150 / 5; 3 x 10 s as last time; refit 1
    assert "(3 last time, early stopping)" in plan.steps[1].what
    assert plan.steps[2].what == "refit: one more epoch on all of TRAIN from the chosen towers"
    assert plan.seconds == 70.0 and "About 70 s in all" in plan.describe()
    cold = training_plan(store, TrainConfig(dataset=DEMO_NAME, model="lstm", epochs=5, tune=False,
                                            extra={"warm_refit": False}))
    assert cold.steps[2].seconds == 20.0                               # a fresh refit: 2 epochs as last time
    assert n > 0


def test_baseline_plan_scales_its_last_fit(store):
    create_demo_dataset(store, n_items=150, n_users=90)
    none_yet = training_plan(store, TrainConfig(dataset=DEMO_NAME, model="ease"))
    assert none_yet.steps[0].seconds is None
    fit_baseline(store, DEMO_NAME, "ease")
    plan = training_plan(store, TrainConfig(dataset=DEMO_NAME, model="ease"))
    with store.session() as s:
        run = repo.list_runs(s)[-1]
    assert plan.steps[0].seconds == run.seconds and plan.steps[0].what.startswith("fit EASE on")
