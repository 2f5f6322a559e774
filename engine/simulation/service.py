"""A stored run in, a stored simulation out: the one entry point the CLI and the app call.

The system under test starts as the run's model (fitted on TRAIN for a holdout run; a run fitted on
everything is refitted on TRAIN first, so the system never starts from what the oracle knows), the
oracle is fitted on all interactions, the users are a seeded sample of those with a TRAIN positive.
Everything is computed first and written in one transaction at the end: a cancelled simulation
leaves nothing in the database (an LSTM's warm-started towers live in memory only: no run, no files)."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from engine.data.split import time_split
from engine.errors import EngineError
from engine.jobs.cancel import check
from engine.runs.loaded import load_run, run_path
from engine.simulation.loop import LoopSettings, Policy, PolicyRun, World, parse_policy, simulate
from engine.simulation.oracle import ChoiceModel, fit_oracle, true_utility
from engine.simulation.space import item_space
from engine.simulation.updates import WARM_EPOCHS, refit_function, warm_function
from engine.store import simulations as sims
from engine.types import RunInfo, StepProgress

DEFAULT_POLICIES = ("mmr:0", "mmr:0.3", "dpp:0.5")


@dataclass(frozen=True)
class SimulationRequest:
    """Everything a simulation is asked with (stored as its settings)."""
    run_id: int
    policies: tuple[str, ...] = DEFAULT_POLICIES
    users: int = 2000
    rounds: int = 20
    k: int = 10
    candidates: int = 100
    update_every: int = 5
    update: str = "refit"
    warm_epochs: int = WARM_EPOCHS       # update "warm": epochs of training per update
    seed: int = 0
    oracle: str = "ease"
    space: str = "model"
    choice: ChoiceModel = field(default_factory=ChoiceModel)

    def loop_settings(self) -> LoopSettings:
        return LoopSettings(rounds=self.rounds, k=self.k, candidates=self.candidates, update_every=self.update_every,
                            update=self.update, seed=self.seed, choice=self.choice)


def build_world(store, request: SimulationRequest, *, progress=None, cancel=None) -> tuple[World, RunInfo]:
    """The world of a request, and the run's info."""
    report = progress or (lambda _u: None)
    loaded = load_run(store, request.run_id)
    ds = loaded.dataset
    split = loaded.split if loaded.split is not None else time_split(ds)
    train = split.train
    model, refit = loaded.model, refit_function(loaded.model)
    warm = warm_function(model, run_path(store, loaded.info), loaded.info.id, epochs=request.warm_epochs, store=store,
                         progress=progress, cancel=cancel)
    if not loaded.info.holdout:
        if refit is None:
            raise EngineError(f"run {request.run_id} learnt from every interaction and its model cannot be "
                              "refitted on TRAIN here; simulate a holdout run")
        report(StepProgress("Fitting the system on TRAIN", 0, 1))
        model = refit(train)
    if request.update == "refit" and refit is None:
        raise EngineError(f"a {loaded.info.model} run cannot be refitted by the simulator; use update "
                          f"{'warm (or none)' if warm is not None else 'none'}")
    if request.update == "warm" and warm is None:
        raise EngineError(f"a {loaded.info.model} run cannot be warm-started (an LSTM run can); use update "
                          f"{'refit (or none)' if refit is not None else 'none'}")
    check(cancel)
    report(StepProgress(f"Fitting the oracle ({request.oracle}) on all interactions", 0, 1))
    oracle = fit_oracle(ds, request.oracle, cancel=cancel)
    check(cancel)
    candidates = np.flatnonzero(np.bincount(train.user_idx[train.positive_mask()], minlength=ds.n_users) > 0)
    rng = np.random.default_rng(request.seed)
    users = np.sort(rng.choice(candidates, size=min(request.users, len(candidates)), replace=False))
    report(StepProgress("True utilities of the simulated users", 0, 1))
    utility = true_utility(oracle, ds, users, cancel=cancel)
    del oracle
    check(cancel)
    report(StepProgress("Item space", 0, 1))
    space = item_space(request.space, dataset=ds, model=model)
    return World(train=train, users=users, utility=utility, space=space, model=model, refit=refit,
                 warm=warm), loaded.info


def _finite(value):
    return value if not (isinstance(value, float) and not math.isfinite(value)) else None


def rounds_rows(runs: list[PolicyRun]) -> list[dict]:
    """The rows stored per policy and round (NaN as null: PostgreSQL's JSON has no NaN)."""
    return [dict(policy=run.policy.label, round=r + 1, metrics={k: _finite(v) for k, v in m.items()},
                 lists={"shown": {str(u): v for u, v in run.lists[r].items()},
                        "chosen": {str(u): v for u, v in run.chosen[r].items()}})
            for run in runs for r, m in enumerate(run.metrics)]


def request_settings(request: SimulationRequest, policies: list[Policy], users: int, space: str) -> dict:
    return dict(run_id=request.run_id, policies=[p.label for p in policies], users=users, rounds=request.rounds,
                k=request.k, candidates=request.candidates, update_every=request.update_every, update=request.update,
                **({"warm_epochs": request.warm_epochs} if request.update == "warm" else {}),
                seed=request.seed, oracle=request.oracle, space=space, choice=request.choice.settings())


def run_simulation(store, request: SimulationRequest, *, progress=None, cancel=None) -> int:
    """Simulate and store; returns the simulation's id."""
    start = time.perf_counter()
    policies = [parse_policy(p) for p in request.policies]
    if len({p.label for p in policies}) != len(policies):
        raise EngineError("each policy once, please (two policies have the same method and trade-off)")
    world, info = build_world(store, request, progress=progress, cancel=cancel)
    runs = simulate(world, policies, request.loop_settings(), progress=progress, cancel=cancel)
    check(cancel)
    settings = request_settings(request, policies, len(world.users), world.space.name)
    settings["dataset"], settings["model"] = info.dataset_name, info.model
    with store.write_session(progress=progress, cancel=cancel) as s:
        return sims.save_simulation(s, dataset_id=info.dataset_id, run_id=info.id, settings=settings,
                                    seconds=time.perf_counter() - start, rounds=rounds_rows(runs))


def list_simulations(store, dataset_id: int | None = None) -> list[dict]:
    with store.session() as s:
        return sims.list_simulations(s, dataset_id)


def get_simulation(store, simulation_id: int) -> dict:
    with store.session() as s:
        return sims.get_simulation(s, simulation_id)


def simulation_for_view(store, simulation_id: int) -> dict:
    """`get_simulation` plus `titles` {item index: title} of every item in the tracked users' lists (the app's
    "that round's lists for a chosen user")."""
    from engine.store import repository as repo
    sim = get_simulation(store, simulation_id)
    items = sorted({int(i) for r in sim["rounds"] for lst in r["lists"].get("shown", {}).values() for i in lst})
    with store.session() as s:
        sim["titles"] = {it.idx: it.title for it in repo.get_items(s, sim["dataset_id"], items)}
    return sim


def simulate_in_child(store_url: str, request: SimulationRequest, progress=None, cancel=None) -> int:
    """The app's entry (engine.jobs.executor.ChildRun): open our own Store, simulate, store; the new id."""
    from engine.store import open_store
    store = open_store(store_url)
    try:
        return run_simulation(store, request, progress=progress, cancel=cancel)
    finally:
        store.close()
