"""evaluate(): full ranking with TRAIN items excluded, deterministic top-K, batches, activity groups."""
from __future__ import annotations

import numpy as np
import pytest

from engine.data.split import time_split
from engine.errors import CancelledError
from engine.evaluation.protocol import evaluate, rank_users, topk_rows
from engine.jobs.cancel import CancelToken
from engine.models.base import Recommender
from tests.engine.test_split import make_dataset


class FixedScores(Recommender):
    """Scores every user the same fixed vector: makes the expected lists easy to write down."""
    name = "fixed"

    def __init__(self, scores):
        self.s = np.asarray(scores, dtype=np.float32)

    n_items = property(lambda self: len(self.s))

    def fit(self, train, *, progress=None, cancel=None):
        pass

    def score(self, history_items, history_ratings=None):
        return self.s.copy()

    def save(self, directory):
        raise NotImplementedError

    @classmethod
    def load(cls, directory):
        raise NotImplementedError


def test_topk_is_deterministic_on_ties():
    s = np.array([[1, 3, 3, 0, 3, 2]], dtype=np.float32)
    assert topk_rows(s, 2).tolist() == [[1, 2]]
    assert topk_rows(s, 4).tolist() == [[1, 2, 4, 5]]
    nan = np.array([[np.nan, 1, 2, np.nan]], dtype=np.float32)
    assert topk_rows(nan, 3).tolist() == [[2, 1, 0]]          # NaN ranks last, never first


def _tiny():
    # user 0: positives items 0..4 at t=1..5 -> test item 4; user 1: items 5..9 -> test item 9;
    # user 1 also saw item 0 (a non-positive)
    rows = [(0, k, 5.0, k + 1) for k in range(5)] + [(1, 5 + k, 5.0, k + 1) for k in range(5)] + [(1, 0, 1.0, 1)]
    return time_split(make_dataset(rows, n_items=12, genres=[("A",)] * 6 + [("B",)] * 6))


def test_train_items_excluded_and_metrics_hand_checked():
    split = _tiny()
    scores = np.arange(12, dtype=np.float32)[::-1].copy()   # item 0 best, then 1, ...
    lists = rank_users(FixedScores(scores), split, 3, batch_users=1)
    assert lists.tolist() == [[4, 5, 6], [1, 2, 3]]         # TRAIN items skipped, test items not
    m = evaluate(FixedScores(scores), split, ks=(1, 3), batch_users=1)
    assert m["n_users"] == 2
    assert m["hit_rate@1"] == pytest.approx(0.5) and m["recall@3"] == pytest.approx(0.5)
    assert m["ndcg@3"] == pytest.approx(0.5) and m["mrr@3"] == pytest.approx(0.5)
    assert m["coverage@3"] == pytest.approx(6 / 12)
    # genre ILD: user 0's list [4(A), 5(A), 6(B)] -> 2/3 of pairs differ; user 1's [1,2,3] all A -> 0
    assert m["ild_genre@3"] == pytest.approx((2 / 3 + 0) / 2)
    assert m["ild_model@3"] is None                          # a model without an item space
    assert m["by_activity"]["<20"]["n_users"] == 2 and m["by_activity"][">100"]["n_users"] == 0
    assert m["split"]["evaluated_users"] == 2


def test_batch_size_does_not_change_results_and_cancel_stops():
    split = _tiny()
    model = FixedScores(np.random.default_rng(1).random(12))
    assert evaluate(model, split, batch_users=1) == evaluate(model, split, batch_users=256)
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        evaluate(model, split, cancel=token)


def test_score_batches_are_bounded_by_the_catalogue_size(monkeypatch):
    """Issue 21 (a million items): a batch holds at most SCORE_FLOATS scores, so 256 users against 1M items
    (2^20) are scored 32 at a time; the lists are the same whatever the batches."""
    from engine.evaluation import protocol
    assert protocol.users_per_batch(256, 1 << 20) == 32 and protocol.users_per_batch(256, 3_000) == 256
    assert protocol.users_per_batch(512, 10 ** 9) == 1
    split = _tiny()
    model = FixedScores(np.random.default_rng(2).random(12))
    whole = rank_users(model, split, 5)
    seen = []
    real = model.score_many
    monkeypatch.setattr(model, "score_many", lambda items, ratings: (seen.append(len(items)), real(items, ratings))[1])
    monkeypatch.setattr(protocol, "SCORE_FLOATS", 24)              # two users' scores of 12 items a batch
    assert np.array_equal(rank_users(model, split, 5), whole) and max(seen) == 2


def _many_users(n_users: int = 40):
    """n_users users with 5 positives each over 12 items: all of them evaluated."""
    rng = np.random.default_rng(3)
    rows = [(u, int(i), 5.0, t) for u in range(n_users)
            for t, i in enumerate(rng.choice(12, size=5, replace=False))]
    return time_split(make_dataset(rows, n_items=12))


def test_scoring_above_the_cell_budget_samples_users_at_random_and_says_so():
    """Issue 21: a catalogue so large that scoring every user would take hours is scored on a seeded random
    sample of users (the same users for every model); below the budget every user is scored."""
    from engine.data.split import scored_sample
    split = _many_users()
    model = FixedScores(np.random.default_rng(4).random(12))
    whole = evaluate(model, split)
    assert whole["n_users"] == 40 and "evaluated_sample" not in whole["split"]
    sampled = evaluate(model, split, cells=12 * 10)                  # room for 10 users' scores
    assert sampled["n_users"] == 10
    assert sampled["split"]["evaluated_sample"] == 10 and sampled["split"]["evaluated_all"] == 40
    a, b = scored_sample(split, 12 * 10), scored_sample(split, 12 * 10)
    assert np.array_equal(a.test_users, b.test_users)                # seeded: every model gets the same users
    assert np.all(np.diff(a.test_users) > 0) and set(a.test_users) <= set(split.test_users)
    assert not np.array_equal(a.test_users, split.test_users[:10])   # drawn, not the first (oldest ids) users
    for u, items in zip(a.test_users, a.test_items):                 # each user keeps its own TEST items
        assert np.array_equal(items, split.test_items[int(np.flatnonzero(split.test_users == u)[0])])
    assert evaluate(model, split, cells=None) == whole
