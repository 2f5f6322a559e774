"""Re-rankers: fast DPP equals brute-force greedy log-det; trade-off 0 is the input order; ties are stable."""
from __future__ import annotations

import numpy as np
import pytest

from engine.explore.rerank import METHODS, normalise_scores, rank_relevance, rerank


def _unit(rng, n, d, dtype=np.float64):
    v = rng.normal(size=(n, d))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(dtype)


def _brute_greedy_logdet(scores, vectors, k, t, window=None):
    """Textbook greedy MAP: at each step the candidate maximising log det(L_{context + i})."""
    s = normalise_scores(scores)
    q = np.exp((1 - t) / (2 * t) * s)
    kernel = q[:, None] * (vectors @ vectors.T) * q[None, :]
    picked: list[int] = []
    for _ in range(k):
        ctx = picked if window is None else picked[max(0, len(picked) - (window - 1)):]
        best, best_i = -np.inf, None
        for i in range(len(s)):
            if i in picked:
                continue
            idx = ctx + [i]
            sign, logdet = np.linalg.slogdet(kernel[np.ix_(idx, idx)])
            if sign > 0 and logdet > best + 1e-12:
                best, best_i = logdet, i
        picked.append(best_i)
    return picked


@pytest.mark.parametrize("window", [None, 2, 3, 5])
def test_fast_dpp_matches_brute_force_greedy_logdet(window):
    rng = np.random.default_rng(7 + (window or 0))
    for _ in range(25):
        n, d = int(rng.integers(6, 25)), int(rng.integers(4, 10))
        k = int(rng.integers(2, min(d, n) + 1))
        vectors, scores = _unit(rng, n, d), rng.normal(size=n)
        t = float(rng.uniform(0.05, 1.0))
        fast = rerank(scores, vectors, k, t, "dpp", window=window, relevance="score").picked.tolist()
        assert fast == _brute_greedy_logdet(scores, vectors, k, t, window)


def test_dpp_float32_vectors_agree_with_float64():
    rng = np.random.default_rng(3)
    v, s = _unit(rng, 300, 32), rng.normal(size=300)
    a = rerank(s, v, 15, 0.6, "dpp").order
    b = rerank(s, v.astype(np.float32), 15, 0.6, "dpp").order
    assert (a == b).mean() >= 0.9   # float32 rounding may swap a near-tie late in the list


@pytest.mark.parametrize("method", METHODS)
def test_tradeoff_zero_is_input_order(method):
    rng = np.random.default_rng(1)
    scores = np.sort(rng.normal(size=50))[::-1]
    genres = (rng.random((50, 6)) < 0.3).astype(float)
    res = rerank(scores, _unit(rng, 50, 8), 10, 0.0, method, genres=genres, target=np.ones(6))
    assert res.order.tolist() == list(range(10))
    assert not res.promoted.any()
    # unsorted input: score order, ties broken by lower input index
    shuffled = np.array([0.5, 0.9, 0.5, 0.9, 0.1])
    res = rerank(shuffled, _unit(rng, 5, 4), 5, 0.0, method, genres=np.ones((5, 2)), target=np.ones(2))
    assert res.order.tolist() == [1, 3, 0, 2, 4]


@pytest.mark.parametrize("method", ["mmr", "dpp"])
def test_deterministic_and_unique(method):
    rng = np.random.default_rng(2)
    v, s = _unit(rng, 200, 16, np.float32), rng.normal(size=200).astype(np.float32)
    for t in (0.3, 0.7, 1.0):
        a, b = rerank(s, v, 20, t, method), rerank(s, v, 20, t, method)
        assert a.order.tolist() == b.order.tolist()
        assert len(set(a.order.tolist())) == 20
        assert np.all((a.relevance >= 0) & (a.relevance <= 1))
        np.testing.assert_array_equal(a.promoted, np.argsort(-s, kind="stable").argsort()[a.order] >= 20)


def test_mmr_follows_its_formula():
    rng = np.random.default_rng(4)
    v, s = _unit(rng, 40, 6), rng.normal(size=40)
    t = 0.4
    res = rerank(s, v, 8, t, "mmr", relevance="score")
    ns = normalise_scores(s)
    picked = [int(np.argmax(ns))]
    for _ in range(7):
        sim = (v @ v[picked].T).max(axis=1)
        obj = (1 - t) * ns - t * sim
        obj[picked] = -np.inf
        picked.append(int(np.argmax(obj)))
    assert res.picked.tolist() == picked
    assert res.order.tolist() == sorted(picked, key=lambda i: -ns[i])      # shown in score order
    gain = dict(zip(res.order.tolist(), res.gain))
    assert gain[picked[0]] == 1.0
    assert gain[picked[3]] == pytest.approx(1 - (v[picked[3]] @ v[picked[:3]].T).max())


def test_marginal_ild_is_greedy_on_the_mean_similarity():
    rng = np.random.default_rng(7)
    s, v, t = rng.normal(size=40), _unit(rng, 40, 5), 0.7
    res = rerank(s, v, 8, t, "ild")
    ns = rank_relevance(s)
    picked = [int(np.argmax(ns))]
    for _ in range(7):
        obj = (1 - t) * ns - t * (v @ v[picked].T).mean(axis=1)
        obj[picked] = -np.inf
        picked.append(int(np.argmax(obj)))
    assert res.picked.tolist() == picked
    assert set(res.order.tolist()) == set(picked)


def test_diversity_rises_with_tradeoff():
    rng = np.random.default_rng(5)
    # two tight clusters; the top scores all sit in the first one
    centre = _unit(rng, 2, 16)
    v = np.vstack([centre[0] + 0.1 * rng.normal(size=(30, 16)), centre[1] + 0.1 * rng.normal(size=(30, 16))])
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    s = np.concatenate([np.linspace(1, 0.6, 30), np.linspace(0.5, 0.1, 30)])
    for method in ("mmr", "dpp"):
        plain = rerank(s, v, 6, 0.0, method).order
        diverse = rerank(s, v, 6, 1.0, method)
        assert (plain < 30).all()
        assert (diverse.order >= 30).any() and diverse.promoted.any()


def test_calibration_matches_user_mix():
    # history is 50/50 genre A/B; candidates by score are all A: calibration brings B in
    genres = np.zeros((20, 2))
    genres[:10, 0] = 1
    genres[10:, 1] = 1
    s = np.linspace(1, 0, 20)
    plain = rerank(s, None, 6, 0.0, "calibration", genres=genres, target=np.array([0.5, 0.5]))
    cal = rerank(s, None, 6, 0.9, "calibration", genres=genres, target=np.array([0.5, 0.5]))
    assert genres[plain.order, 1].sum() == 0
    assert genres[cal.order, 1].sum() == 3
    assert cal.gain[0] > 0


def test_degenerate_inputs():
    v = np.ones((5, 3)) / np.sqrt(3)                         # every vector identical
    for method in ("mmr", "dpp"):
        res = rerank(np.arange(5.0)[::-1], v, 5, 0.8, method)
        assert sorted(res.order.tolist()) == list(range(5))
    res = rerank(np.ones(4), v[:4], 10, 0.5, "dpp", window=2)    # k > N, equal scores
    assert res.order.tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError):
        rerank(np.ones(3), v[:3], 2, 1.5)
    with pytest.raises(ValueError):
        rerank(np.ones(3), v[:3], 2, 0.5, "nope")
    with pytest.raises(ValueError):
        rerank(np.ones(3), None, 2, 0.5, "calibration")


def test_rank_relevance_and_a_wider_pool():
    """Relevance is the DCG discount of the score rank, scaled on the best `top`; candidates below them are
    negative, so at t = 0 the list is the top k however wide the pool."""
    s = np.array([0.1, 3.0, 2.0, 2.0, -1.0])
    rel = rank_relevance(s)
    assert rel[1] == 1.0 and rel[4] == 0.0 and rel[2] > rel[3] > rel[0] > 0
    np.testing.assert_allclose(rank_relevance(s, top=3)[[1, 3]], [1.0, 0.0])
    assert (rank_relevance(s, top=3)[[0, 4]] < 0).all()
    rng = np.random.default_rng(3)
    scores, v = rng.normal(size=400), _unit(rng, 400, 6)
    assert sorted(rerank(scores, v, 10, 0.0, "ild", relevance_top=100).order) == \
        sorted(np.argsort(-scores)[:10].tolist())
    wide = rerank(scores, v, 10, 1.0, "ild", relevance_top=100)
    assert (np.argsort(np.argsort(-scores))[wide.order] >= 100).any()   # t = 1 reaches past the top 100
