"""On the bundled demo data the LSTM (default configuration, a few epochs) clearly beats MostPopular
on the held-out split: a real full-ranking evaluation, not a smoke test."""
from __future__ import annotations

import pytest


@pytest.mark.slow
def test_lstm_beats_most_popular_on_demo(demo_store):
    from engine.data.dataset import load_dataset
    from engine.data.demo import DEMO_NAME
    from engine.data.split import time_split
    from engine.evaluation.protocol import evaluate
    from engine.models.lstm.model import LSTMRecommender
    from engine.models.popularity import PopularityRecommender

    split = time_split(load_dataset(demo_store, DEMO_NAME))
    pop = PopularityRecommender()
    pop.fit(split.train)
    pop_ndcg = evaluate(pop, split, ks=(10,))["ndcg@10"]
    lstm = LSTMRecommender(epochs=4, patience=0, refit=False)  # fixed epochs: no validation pass, fast
    lstm.fit(split.train)
    losses = [e["loss"] for e in lstm.epochs]
    assert losses[-1] < losses[0]
    ndcg = evaluate(lstm, split, ks=(10,))["ndcg@10"]
    assert ndcg > 2.0 * pop_ndcg and ndcg - pop_ndcg > 0.015, (ndcg, pop_ndcg)
