"""Issue 22: every baseline's fit_baseline reports its fit and its evaluation (phase name and done/total,
counts only: no timings), and ALS fits and scores with one BLAS thread (implicit's advice; a BLAS pool
in the app's niced training child made the evaluation crawl), without implicit's OpenBLAS warning."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import threadpoolctl

from engine.data.demo import create_demo_dataset
from engine.models import als as als_mod
from engine.models.registry import BASELINES
from engine.runs.baselines import evaluate_stage, fit_baseline, fit_stage
from engine.store import open_store
from engine.types import StepProgress


@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    d = tmp_path_factory.mktemp("progress")
    store = open_store(str(d / "p.db"), artifacts=d / "artifacts")
    create_demo_dataset(store, "small demo", n_items=300, n_users=250)
    yield store
    store.close()


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]


@pytest.mark.parametrize("name", BASELINES)
def test_fit_baseline_reports_fit_and_evaluation(small_store, name):
    updates: list[StepProgress] = []
    fit_baseline(small_store, "small demo", name, progress=lambda u: updates.append(u)
                 if isinstance(u, StepProgress) else None)
    fit = [(u.done, u.total) for u in updates if u.stage == fit_stage(name)]
    assert fit[0] == (0, 1) and fit[-1] == (1, 1)
    ev = [(u.done, u.total) for u in updates if u.stage == evaluate_stage(name)]
    n = ev[0][1]
    assert n > 0 and ev[0] == (0, n) and ev[-1] == (n, n)
    assert [d for d, _ in ev] == sorted(d for d, _ in ev) and all(t == n for _, t in ev)
    # the fit's updates (the model's own stages included) all come before the evaluation's
    first_eval = next(i for i, u in enumerate(updates) if u.stage == evaluate_stage(name))
    last_fit = max(i for i, u in enumerate(updates) if u.stage == fit_stage(name))
    assert last_fit < first_eval
    if name == "als":
        steps = [(u.done, u.total) for u in updates if u.stage.startswith("ALS")]
        assert steps and steps[-1][0] == steps[-1][1]


def test_als_fits_and_scores_with_one_blas_thread(small_store, monkeypatch):
    from implicit import utils as implicit_utils
    from implicit.cpu.als import AlternatingLeastSquares

    seen: dict[str, list[int]] = {"fit": [], "score": []}
    real_fit, real_factors = AlternatingLeastSquares.fit, als_mod.ALSRecommender._user_factors

    def fit(self, *a, **kw):
        seen["fit"] += _blas_threads()
        return real_fit(self, *a, **kw)

    def user_factors(self, histories):
        seen["score"] += _blas_threads()
        return real_factors(self, histories)

    monkeypatch.setattr(AlternatingLeastSquares, "fit", fit)
    monkeypatch.setattr(als_mod.ALSRecommender, "_user_factors", user_factors)
    monkeypatch.setattr(implicit_utils, "_checked_blas_config", False)   # warn again if it would
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit_baseline(small_store, "small demo", "als")
    assert not [w for w in caught if "OpenBLAS" in str(w.message) or "MKL" in str(w.message)]
    assert seen["fit"] and set(seen["fit"]) == {1}
    assert seen["score"] and set(seen["score"]) == {1}


def test_one_blas_thread_restores_the_limit():
    before = _blas_threads()
    with als_mod.one_blas_thread():
        assert set(_blas_threads()) == {1}
    assert _blas_threads() == before
    # scoring outside any evaluation (the app's Explore) is limited too and gives the same numbers
    m = als_mod.ALSRecommender(factors=4)
    m.Y, m._n_items = np.eye(4, dtype=np.float32), 4
    assert m.score_many([np.array([0, 1])]).shape == (1, 4)
