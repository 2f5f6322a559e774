"""Metric functions against hand-computed cases (docs/evaluation.md definitions)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine.evaluation import metrics as M
from tests.engine.test_split import make_dataset


def test_cosine_source_article_examples_done_right():
    assert M.cosine([1, 0, 1], [1, 1, 0]) == pytest.approx(0.5)
    assert M.cosine([1, 2, 3], [4, 5, 6]) == pytest.approx(32 / math.sqrt(1078))
    assert M.cosine([1, 2, 3], [4, 5, 6]) == pytest.approx(0.9746, abs=1e-4)
    assert M.cosine([0, 0], [1, 1]) == 0.0


def test_accuracy_hand_computed():
    ranked = [5, 3, 9, 1, 7]
    test = [3, 7, 8]
    assert M.recall_at_k(ranked, test, 5) == pytest.approx(2 / 3)
    assert M.recall_at_k(ranked, test, 1) == 0.0
    # hits at ranks 2 and 5; IDCG over min(5, 3) = 3 positions
    dcg = 1 / math.log2(3) + 1 / math.log2(6)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert M.ndcg_at_k(ranked, test, 5) == pytest.approx(dcg / idcg)
    assert M.ndcg_at_k([3, 7, 8], test, 3) == pytest.approx(1.0)
    assert M.hit_rate_at_k(ranked, test, 1) == 0.0 and M.hit_rate_at_k(ranked, test, 2) == 1.0
    assert M.mrr_at_k(ranked, test, 5) == pytest.approx(0.5)
    assert M.mrr_at_k(ranked, test, 1) == 0.0


def test_batch_accuracy_matches_per_list_functions():
    rng = np.random.default_rng(0)
    lists = np.array([rng.permutation(30)[:20] for _ in range(40)])
    tests = [rng.choice(30, rng.integers(1, 8), replace=False) for _ in range(40)]
    hits = np.array([np.isin(lists[r], tests[r]) for r in range(40)])
    n_rel = np.array([len(t) for t in tests])
    for k in (10, 20):
        rows = M.accuracy_rows(hits, n_rel, k)
        for r in range(40):
            assert rows["recall"][r] == pytest.approx(M.recall_at_k(lists[r], tests[r], k))
            assert rows["ndcg"][r] == pytest.approx(M.ndcg_at_k(lists[r], tests[r], k))
            assert rows["hit_rate"][r] == M.hit_rate_at_k(lists[r], tests[r], k)
            assert rows["mrr"][r] == pytest.approx(M.mrr_at_k(lists[r], tests[r], k))


def test_ild_and_mean_pairwise_cosine_skip_items_without_genre():
    vecs = np.array([[1, 0, 1], [1, 1, 0], [0, 0, 0], [0, 1, 0]], dtype=np.float32)
    # valid pairs among [0, 1, 2, 3]: (0,1) cos .5, (0,3) cos 0, (1,3) cos 1/sqrt2; item 2 has no genre
    cosines = [0.5, 0.0, 1 / math.sqrt(2)]
    assert M.mean_pairwise_cosine([0, 1, 2, 3], vecs) == pytest.approx(np.mean(cosines))
    assert M.ild([0, 1, 2, 3], vecs) == pytest.approx(1 - np.mean(cosines))
    assert math.isnan(M.ild([0, 2], vecs))
    rows = M.ild_rows(np.array([[0, 1, 2, 3], [0, 2, 2, 2], [3, 1, 0, 2]]), vecs)
    assert rows[0] == pytest.approx(1 - np.mean(cosines)) and math.isnan(rows[1])
    assert rows[2] == pytest.approx(rows[0])


def test_coverage_novelty_gini():
    lists = [[0, 1], [0, 2]]
    assert M.coverage(lists, 10) == pytest.approx(0.3)
    counts = np.array([3, 1, 0, 0])           # N = 4 train positives, catalogue 4
    p = (counts + 1) / (4 + 4)
    expected = np.mean([np.mean(-np.log2(p[[0, 1]])), np.mean(-np.log2(p[[0, 2]]))])
    assert M.novelty(lists, counts) == pytest.approx(expected)
    assert M.gini(np.array([5, 5, 5, 5])) == pytest.approx(0.0)
    assert M.gini(np.array([0, 0, 0, 7])) == pytest.approx(0.75)     # (n-1)/n: all on one of n
    assert M.gini(np.array([1, 3])) == pytest.approx(0.25)           # hand: 2*(1*1+2*3)/(2*4) - 3/2
    assert M.exposure_gini(lists, 4) == pytest.approx(M.gini(np.array([2, 1, 1, 0])))


def test_genre_vectors_multi_hot():
    ds = make_dataset([(0, 0, 5.0, 1), (0, 2, 5.0, 2)], genres=[("Drama", "War"), (), ("War",)])
    v = M.genre_vectors(ds)
    assert v.shape == (3, 2)
    assert v.tolist() == [[1, 1], [0, 0], [0, 1]]
