""""LSTM + EASE": the LSTM two-tower's scores blended with EASE's, a model of its own (reported beside the
LSTM, never inside its figures). Both scores are standardised per user over the catalogue (mean 0, sd 1)
and mixed as w * LSTM + (1 - w) * EASE; w and EASE's lambda are chosen on the validation split carved
from TRAIN, with the LSTM's validation-phase towers and an EASE fitted on the validation split's TRAIN.
Scoring is numpy; only `fit` (the LSTM part) imports TensorFlow."""
from __future__ import annotations

import json
import pathlib

import numpy as np

from engine.data.split import validation_split
from engine.evaluation.protocol import topk_rows
from engine.jobs.cancel import check
from engine.models.base import Recommender
from engine.models.ease import EASERecommender
from engine.models.lstm.model import LSTMRecommender
from engine.models.selection import ndcg_rows, tune_baseline
from engine.types import StepProgress

WEIGHTS = tuple(round(w, 1) for w in np.linspace(0.0, 1.0, 11))


def standardise(scores: np.ndarray) -> np.ndarray:
    """Each row to mean 0, sd 1 (a constant row becomes 0)."""
    s = np.asarray(scores, np.float32)
    sd = s.std(axis=1, keepdims=True)
    return ((s - s.mean(axis=1, keepdims=True)) / np.where(sd > 0, sd, 1.0)).astype(np.float32)


class BlendScorer:
    """w * standardised(a) + (1 - w) * standardised(b), through the Recommender scoring calls."""

    def __init__(self, a, b, weight: float) -> None:
        self.a, self.b, self.weight = a, b, float(weight)

    @property
    def n_items(self) -> int:
        return self.a.n_items

    def score_many(self, histories, ratings=None) -> np.ndarray:
        if not len(histories):
            return np.zeros((0, self.n_items), np.float32)
        out = self.weight * standardise(self.a.score_many(histories, ratings)) if self.weight > 0 else 0.0
        if self.weight < 1:
            out = out + (1.0 - self.weight) * standardise(self.b.score_many(histories, ratings))
        return np.asarray(out, np.float32)

    def score(self, history_items, history_ratings=None) -> np.ndarray:
        return self.score_many([history_items], None if history_ratings is None else [history_ratings])[0]


def blend_table(a, b, val, progress=None, cancel=None) -> list[tuple[float, float]]:
    """(w, validation NDCG@10) for every w in WEIGHTS; both models scored once per validation user."""
    users = val.test_users
    lists = {w: np.zeros((len(users), 10), np.int64) for w in WEIGHTS}
    for s in range(0, len(users), 256):
        check(cancel)
        if progress is not None:
            progress(StepProgress("LSTM + EASE: blend weight on validation", s, len(users)))
        hist = [val.history(int(u)) for u in users[s:s + 256]]
        items, ratings = [h[0] for h in hist], [h[1] for h in hist]
        za, zb = standardise(a.score_many(items, ratings)), standardise(b.score_many(items, ratings))
        for w in WEIGHTS:
            mixed = w * za + (1.0 - w) * zb
            for r, h in enumerate(items):
                mixed[r, h] = -np.inf
            lists[w][s:s + len(hist)] = topk_rows(mixed, 10)
    return [(w, float(ndcg_rows(lists[w], val, 10).mean())) for w in WEIGHTS]


class LSTMEASERecommender(Recommender):
    name = "lstm_ease"

    def __init__(self, weight: float | None = None, ease_l2: float | None = None, **lstm_params) -> None:
        self.lstm = LSTMRecommender(**lstm_params)
        self.ease = EASERecommender()
        self.weight, self.ease_l2 = weight, ease_l2
        self.blend_table: list[tuple[float, float]] = []   # (w, validation NDCG@10)

    # the LSTM's training record stands for the model's (training.py reads these)
    device = property(lambda self: self.lstm.device, lambda self, v: setattr(self.lstm, "device", v))
    example_cache = property(lambda self: self.lstm.example_cache,
                             lambda self, v: setattr(self.lstm, "example_cache", v))
    catalogue_store = property(lambda self: self.lstm.catalogue_store,
                               lambda self, v: setattr(self.lstm, "catalogue_store", v))
    config = property(lambda self: self.lstm.config)
    epochs = property(lambda self: self.lstm.epochs)
    best_epoch = property(lambda self: self.lstm.best_epoch)
    trials = property(lambda self: self.lstm.trials)

    @property
    def n_items(self) -> int:
        return self.lstm.n_items

    def params(self) -> dict:
        return {**self.lstm.params(), "weight": self.weight, "ease_l2": self.ease_l2}

    def fit(self, train, *, progress=None, cancel=None) -> None:
        self.lstm.fit(train, progress=progress, cancel=cancel)
        self.fit_blend(train, progress=progress, cancel=cancel)

    def fit_blend(self, train, *, ease_l2: float | None = None, progress=None, cancel=None) -> None:
        """With `self.lstm` trained on `train`: choose EASE's lambda (unless given) and the weight on
        validation, then fit EASE on all of `train`."""
        report = progress or (lambda _u: None)
        val = validation_split(train)
        l2 = ease_l2 if ease_l2 is not None else self.ease_l2
        grid = [{"l2": float(l2)}] if l2 is not None else None
        chosen = tune_baseline("ease", val, grid, progress=progress, cancel=cancel, keep=True)
        self.ease_l2 = chosen.params["l2"]
        self.blend_table = blend_table(self.lstm.validation_model(), chosen.model, val, progress, cancel)
        self.weight = max(self.blend_table, key=lambda r: (r[1], r[0]))[0]
        report(StepProgress("LSTM + EASE: fitting EASE on TRAIN", 0, 1))
        self.ease = EASERecommender(l2=self.ease_l2)
        self.ease.fit(train, cancel=cancel)

    def _scorer(self) -> BlendScorer:
        return BlendScorer(self.lstm, self.ease, self.weight)

    def score(self, history_items, history_ratings=None) -> np.ndarray:
        return self._scorer().score(history_items, history_ratings)

    def score_many(self, histories, ratings=None) -> np.ndarray:
        return self._scorer().score_many(histories, ratings)

    def item_vectors(self) -> np.ndarray | None:
        return self.lstm.item_vectors()

    def save(self, directory: pathlib.Path) -> None:
        directory = pathlib.Path(directory)
        self.lstm.save(directory / "lstm")
        self.ease.save(directory / "ease")
        (directory / "model.json").write_text(json.dumps(dict(model=self.name, weight=self.weight,
                                                              ease_l2=self.ease_l2, blend_table=self.blend_table)))

    @classmethod
    def load(cls, directory: pathlib.Path) -> "LSTMEASERecommender":
        directory = pathlib.Path(directory)
        meta = json.loads((directory / "model.json").read_text())
        model = cls(weight=meta["weight"], ease_l2=meta["ease_l2"])
        model.lstm = LSTMRecommender.load(directory / "lstm")
        model.ease = EASERecommender.load(directory / "ease")
        model.blend_table = [tuple(r) for r in meta.get("blend_table", [])]
        return model
