"""The feedback-loop simulator (issue 23): a two-cluster world with a known answer, reproducibility,
the batched re-rankers against the per-list ones, the metrics, storage (cancel leaves nothing), the CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine.errors import CancelledError, EngineError
from engine.explore.rerank import rerank
from engine.jobs.cancel import CancelToken
from engine.models.popularity import PopularityRecommender
from engine.simulation import metrics as M
from engine.simulation.batched import rerank_many
from engine.simulation.loop import LoopSettings, World, best_left, ideal_lists, parse_policy, simulate, top_columns
from engine.simulation.oracle import ChoiceModel, fit_oracle, true_utility
from engine.simulation.scoring import history_matrix
from engine.simulation.space import ItemSpace, item_space
from tests.engine.sim_worlds import PER_CLUSTER, two_cluster_dataset, write_two_clusters


def _popularity(data):
    m = PopularityRecommender()
    m.fit(data)
    return m


def _cluster_world(seed: int = 1):
    """Users who like both clusters equally (true utility 0.9 +- noise everywhere); the system is MostPopular,
    refitted every round, diversifying in the genre space (A or B). TRAIN holds 5 A and 1 B per user, so
    every A item starts more popular than every B item."""
    ds = two_cluster_dataset(a_per_user=5, b_per_user=1)
    rng = np.random.default_rng(seed)
    utility = (0.9 + rng.normal(0, 0.02, (ds.n_users, ds.n_items))).astype(np.float32)
    model = _popularity(ds)
    return World(train=ds, users=np.arange(ds.n_users), utility=utility,
                 space=item_space("genres", dataset=ds, model=model), model=model, refit=_popularity)


def _b_share(run) -> list[float]:
    return [float(e[PER_CLUSTER:].sum() / e.sum()) for e in run.exposure]


def test_two_clusters_accuracy_collapses_diversity_keeps_both():
    world = _cluster_world()
    assert world.popularity[:PER_CLUSTER].min() > world.popularity[PER_CLUSTER:].max()
    runs = simulate(world, [parse_policy("mmr:0"), parse_policy("mmr:0.6"), parse_policy("dpp:0.5")],
                    LoopSettings(rounds=8, update_every=1, candidates=60))
    accuracy, mmr, dpp = (_b_share(r) for r in runs)
    assert max(accuracy) == 0.0                       # only cluster A is ever shown
    # both clusters in every round's exposure: in a two-genre space, once a list holds one of each the
    # diversity terms are equal for all, so relevance fills the rest: (at least) one B item per list of 10
    assert min(mmr) >= 0.1 and min(dpp) >= 0.1
    assert all(any(i >= PER_CLUSTER for i in lst) and any(i < PER_CLUSTER for i in lst)
               for rnd in runs[1].lists for lst in rnd.values())
    # the users like B as much as A: what they consumed from B exists only under diversity
    consumed_b = [sum(c >= PER_CLUSTER for rnd in r.chosen for c in rnd.values()) for r in runs]
    assert consumed_b[0] == 0 and consumed_b[1] > 0
    # the collapse shows in the measures too: accuracy shows fewer items, more concentrated
    assert runs[0].metrics[-1]["coverage"] < runs[1].metrics[-1]["coverage"]
    assert runs[0].metrics[-1]["ild"] < runs[1].metrics[-1]["ild"]


def test_same_seed_same_figures_other_seed_other_figures():
    policies = [parse_policy("mmr:0"), parse_policy("dpp:0.3")]
    a = simulate(_cluster_world(), policies, LoopSettings(rounds=4, update_every=2, seed=3))
    b = simulate(_cluster_world(), policies, LoopSettings(rounds=4, update_every=2, seed=3))
    c = simulate(_cluster_world(), policies, LoopSettings(rounds=4, update_every=2, seed=4))
    assert [r.metrics for r in a] == [r.metrics for r in b]
    assert [r.chosen for r in a] == [r.chosen for r in b]
    assert [r.chosen for r in a] != [r.chosen for r in c]


def test_policies_share_one_random_stream():
    """Two copies of the same policy see the same noise, so they make exactly the same choices."""
    world = _cluster_world()
    runs = simulate(world, [parse_policy("mmr:0.2"), parse_policy("mmr:0.2")], LoopSettings(rounds=3))
    assert runs[0].metrics == runs[1].metrics and runs[0].chosen == runs[1].chosen


@pytest.mark.parametrize("method", ["mmr", "ild", "dpp"])
@pytest.mark.parametrize("t", [0.0, 0.3, 0.7, 1.0])
def test_batched_rerank_equals_the_per_list_rerank(method, t):
    rng = np.random.default_rng(11)
    v = rng.normal(size=(200, 16))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    cand = np.stack([rng.choice(200, 30, replace=False) for _ in range(12)])
    scores = -np.sort(-rng.random((12, 30)), axis=1)       # in score order, as the loop gives them
    sims = np.einsum("bid,bjd->bij", v[cand], v[cand])
    got = rerank_many(scores, sims, 8, t, method)
    for row in range(12):
        want = rerank(scores[row], v[cand[row]], 8, t, method).order
        assert got[row].tolist() == want.tolist()


def test_item_space_block_and_ild():
    v = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    space = ItemSpace(v, "test")
    assert space.block(np.array([[0, 1, 2]]))[0].tolist() == [[1, 0, 1], [0, 1, 0], [1, 0, 1]]
    assert space.ild(np.array([[0, 1], [0, 2]])).tolist() == [1.0, 0.0]


def test_top_columns_with_many_zero_scores_and_seen_items():
    rng = np.random.default_rng(5)
    scores = np.where(rng.random((50, 300)) < 0.9, 0.0, rng.random((50, 300))).astype(np.float32)
    scores[:, :20] = -np.inf                                   # seen
    got = top_columns(scores, 25)
    for row in range(50):
        kth = np.sort(scores[row])[-25]
        assert len(set(got[row].tolist())) == 25
        assert (scores[row, got[row]] >= kth).all() and scores[row, got[row]].min() == kth


def test_the_ideal_list_leaves_out_what_was_consumed():
    items = np.array([[7, 3, 9, 1]])
    values = np.array([[0.9, 0.8, 0.7, 0.6]])
    assert best_left(items, values, np.array([[3, -1]]), 2).tolist() == [[0.9, 0.7]]
    assert best_left(items, values, np.zeros((1, 0), dtype=np.int64), 2).tolist() == [[0.9, 0.8]]


def test_the_ideal_recommenders_list_is_the_best_unconsumed():
    items = np.array([[7, 3, 9, 1], [2, 4, 6, 8]])
    assert ideal_lists(items, np.array([[3, -1], [8, 2]]), 2).tolist() == [[7, 9], [4, 6]]
    assert ideal_lists(items, np.zeros((2, 0), dtype=np.int64), 3).tolist() == [[7, 3, 9], [2, 4, 6]]


def _truth_world(seed: int = 2):
    """Every user has the same true taste (distinct utilities) and the system is MostPopular whose counts
    ARE that taste, kept fixed: pure accuracy then shows exactly the ideal recommender's lists."""
    ds = two_cluster_dataset(a_per_user=5, b_per_user=1)
    taste = np.random.default_rng(seed).permutation(ds.n_items) / ds.n_items * 0.5 + 0.5
    utility = np.tile(taste.astype(np.float32), (ds.n_users, 1))
    model = _popularity(ds)
    model.counts = utility[0].copy()
    return World(train=ds, users=np.arange(ds.n_users), utility=utility,
                 space=item_space("genres", dataset=ds, model=model), model=model)


def test_homogenisation_against_the_ideal_recommender():
    settings = LoopSettings(rounds=5, update="none", candidates=60, seed=4)
    # marginal ILD: in this two-genre world MMR and DPP take one item of the other genre that the top k holds
    # anyway, so their lists (shown in score order) are the ideal's; ild keeps paying for the list's mix
    runs = simulate(_truth_world(), [parse_policy("mmr:0"), parse_policy("ild:0.7")], settings)
    truth, diverse = (r.metrics for r in runs)
    for a, b in zip(truth, diverse):
        assert a["homogenisation_ideal"] == b["homogenisation_ideal"] > 0      # one ideal run, the same stream
        for m in (a, b):
            assert m["homogenisation_vs_ideal"] == pytest.approx(m["homogenisation"] - m["homogenisation_ideal"])
    # the system that knows the truth IS the ideal recommender: same lists, same choices, same homogenisation
    assert all(m["homogenisation_vs_ideal"] == 0.0 for m in truth)
    # a policy away from the truth makes users differ from the ideal's (here: less alike, as their taste is one)
    assert any(m["homogenisation_vs_ideal"] != 0.0 for m in diverse)
    # the ideal runs on the stream alone: which policies run beside it does not change its curve
    alone = simulate(_truth_world(), [parse_policy("dpp:0.5")], settings)[0].metrics
    assert [m["homogenisation_ideal"] for m in alone] == [m["homogenisation_ideal"] for m in truth]


def test_gini_coverage_and_homogenisation_on_known_sets():
    shown = np.array([[0, 1], [0, 1], [0, 1]])
    assert M.coverage(shown, 4) == 0.5
    assert M.exposure_gini(np.array([[0, 1], [2, 3]]), 4) == pytest.approx(0.0)
    assert M.exposure_gini(shown, 4) > M.exposure_gini(np.array([[0, 1], [2, 3], [0, 2]]), 4)
    sets = [[1, 2], [2, 3], [], []]
    rows = [r for r, items in enumerate(sets) for _ in items]
    consumed = history_matrix(np.array(rows), np.array([i for items in sets for i in items]), 4, 5)
    pairs = np.array([[0, 1], [0, 2], [2, 3]])
    # {1,2} vs {2,3}: 1/3; {1,2} vs {}: 0; {} vs {}: left out
    assert M.homogenisation(consumed, pairs) == pytest.approx((1 / 3 + 0) / 2)


def test_ndcg_against_the_oracle():
    ideal = np.array([[3.0, 2.0, 1.0, -1.0]])
    assert M.ndcg_against_oracle(np.array([[3.0, 2.0]]), ideal)[0] == pytest.approx(1.0)
    worse = M.ndcg_against_oracle(np.array([[2.0, 3.0]]), ideal)[0]
    assert 0.0 < worse < 1.0
    assert M.ndcg_against_oracle(np.array([[-1.0, -2.0]]), ideal)[0] == 0.0


def test_choice_model_position_bias_and_nothing():
    rng = np.random.default_rng(0)
    g = rng.gumbel(size=(20000, 4))
    same = np.zeros((20000, 3))
    picks = ChoiceModel(temperature=1.0, position_decay=1.0, no_choice=-50).choose(same, g)
    share = np.bincount(picks, minlength=4) / len(picks)
    assert share[0] == pytest.approx(1 / (1 + 1 / 2 + 1 / 3), abs=0.02)   # weights 1, 1/2, 1/3
    assert share[3] == 0.0
    never = ChoiceModel(no_choice=50).choose(same, g)
    assert (never == 3).all()


def test_oracle_utilities_follow_the_oracles_ranking_on_a_log_scale():
    ds = two_cluster_dataset(40)
    oracle = fit_oracle(ds, "ease", {"l2": 10.0})
    users = np.array([0, 5, 7])
    u = true_utility(oracle, ds, users)
    assert u.shape == (3, ds.n_items) and u.max() <= 1.0 and u.min() >= 0.0
    scores = oracle.score_many([ds.user_events(int(x))[0] for x in users])
    for row in range(3):
        top = scores[row] == scores[row].max()
        assert np.allclose(u[row, top], 1.0 - np.log((1 + top.sum()) / 2) / np.log(ds.n_items))   # average rank
        order = np.argsort(-scores[row], kind="stable")
        assert np.all(np.diff(u[row, order]) <= 1e-6)    # utility falls as the oracle's score falls
    with pytest.raises(EngineError):
        fit_oracle(ds, "lstm")


def test_policy_parsing():
    assert parse_policy("MMR:0.3").label == "mmr:0.3" and parse_policy("dpp").tradeoff == 0.0
    for bad in ("xyz:0.1", "mmr:2", "mmr:x"):
        with pytest.raises(EngineError):
            parse_policy(bad)


# ---- stored simulations ---------------------------------------------------------------------------

@pytest.fixture
def ease_run(any_store):
    from engine.runs.baselines import fit_baseline
    write_two_clusters(any_store)
    return fit_baseline(any_store, "two clusters", "ease", params={"l2": 10.0})


def _request(run_id, **kw):
    from engine.simulation.service import SimulationRequest
    base = dict(run_id=run_id, policies=("mmr:0", "dpp:0.5"), users=30, rounds=3, k=5, candidates=20,
                update_every=2, seed=0)
    return SimulationRequest(**{**base, **kw})


def test_simulation_is_stored_and_exported(any_store, ease_run):
    from engine.simulation import export
    from engine.simulation.service import get_simulation, list_simulations, run_simulation
    sim_id = run_simulation(any_store, _request(ease_run))
    sim = get_simulation(any_store, sim_id)
    assert [s["id"] for s in list_simulations(any_store)] == [sim_id]
    assert sim["settings"]["policies"] == ["mmr:0", "dpp:0.5"] and sim["settings"]["users"] == 30
    assert [(r["policy"], r["round"]) for r in sim["rounds"]] == [(p, r) for p in ("mmr:0", "dpp:0.5")
                                                                  for r in (1, 2, 3)]
    assert set(sim["rounds"][0]["metrics"]) == set(M.METRICS)
    shown = sim["rounds"][0]["lists"]["shown"]
    assert len(shown) == 5 and all(len(v) == 5 for v in shown.values())
    csv_text = export.to_csv(sim)
    assert csv_text.splitlines()[1].startswith("# settings: ") and '"seed": 0' in csv_text
    assert len(csv_text.splitlines()) == 3 + 6
    assert json.loads(export.to_json(sim))["settings"]["rounds"] == 3


def test_cancel_leaves_nothing(any_store, ease_run):
    from engine.simulation.service import list_simulations, run_simulation
    token = CancelToken()

    def progress(update):
        if getattr(update, "stage", "").startswith("Simulating") and update.done == 1:
            token.cancel()
    with pytest.raises(CancelledError):
        run_simulation(any_store, _request(ease_run), progress=progress, cancel=token)
    assert list_simulations(any_store) == []


def test_cli_prints_a_table_per_round_and_lists(tmp_path, capsys):
    from engine.cli.main import main
    from engine.runs.baselines import fit_baseline
    from engine.store import open_store
    db = str(tmp_path / "sim.db")
    store = open_store(db)
    write_two_clusters(store)
    run_id = fit_baseline(store, "two clusters", "ease", params={"l2": 10.0})
    store.close()
    out_csv = tmp_path / "sim.csv"
    code = main(["--db", db, "simulate", "--run", str(run_id), "--rounds", "2", "--users", "25", "--k", "5",
                 "--candidates", "20", "--policy", "mmr:0", "--policy", "mmr:0.5", "--csv", str(out_csv)])
    text = capsys.readouterr().out
    assert code == 0
    lines = text.splitlines()
    assert lines[1].split()[:4] == ["round", "policy", "cum_util", "ndcg"]
    assert [ln.split()[:2] for ln in lines[2:]] == [["1", "mmr:0"], ["1", "mmr:0.5"], ["2", "mmr:0"], ["2", "mmr:0.5"]]
    assert out_csv.read_text().count("\n") == 3 + 4
    assert main(["--db", db, "simulate", "--list"]) == 0
    assert "mmr:0 mmr:0.5" in capsys.readouterr().out
    assert main(["--db", db, "simulate", "--run", str(run_id), "--policy", "nope:1"]) == 2
    assert "mmr, ild or dpp" in capsys.readouterr().err
    assert main(["--db", db, "simulate", "--show", "1", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["settings"]["users"] == 25 and [r["round"] for r in shown["rounds"]] == [1, 2, 1, 2]
    assert main(["--db", db, "simulate", "--show", "99"]) == 2
    assert "no simulation 99" in capsys.readouterr().err
