"""Ground truth for the simulation: a "true preference" oracle and the choice model.

The oracle is a strong model (EASE by default) fitted on ALL of a dataset's interactions, test included:
it stands for what users really like, which the system under test (fitted on TRAIN only) tries to learn.
A user's true utility of an item is the oracle's score standardised over the catalogue for that user
(z-score: 0 = an average item for this user, 2 = two standard deviations above), so utilities of
different users are on one scale whatever the oracle's raw score range.

Choice (a multinomial logit over the shown list, as in the simulators of Chaney et al. 2018 and
RecSim): the user picks item i at position p (0-based) with probability proportional to
``exp(u_i / temperature) * (p + 1) ** -position_decay``, or nothing with weight ``exp(no_choice /
temperature)``. Defaults: temperature 1 and position decay 1 (a DCG-like fall-off: the 2nd slot gets half
the weight of the 1st), no_choice 3.0 (choosing nothing is as good as an item 3 standard deviations above
the user's average; on MovieTweetings with an EASE system this makes about half of the shown lists lead to
a choice; docs/simulation.md). Draws are Gumbel-max, so every policy can share one stream of noise."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from engine.data.dataset import Dataset
from engine.jobs.cancel import check
from engine.models.base import Recommender
from engine.models.registry import BASELINES, get_model_class
from engine.simulation.scoring import history_matrix, score_block

BLOCK = 2048   # users scored at once: a block of dense (users x items) float32 rows


@dataclass(frozen=True)
class ChoiceModel:
    temperature: float = 1.0
    position_decay: float = 1.0
    no_choice: float = 3.0

    def settings(self) -> dict:
        return asdict(self)

    def choose(self, shown_utility: np.ndarray, gumbel: np.ndarray) -> np.ndarray:
        """(B,) chosen position in [0, k], k meaning "nothing", from the shown items' utilities (B, k)
        and standard Gumbel noise (B, k + 1)."""
        b, k = shown_utility.shape
        logits = np.empty((b, k + 1))
        logits[:, :k] = shown_utility / self.temperature - self.position_decay * np.log1p(np.arange(k))
        logits[:, k] = self.no_choice / self.temperature
        return np.argmax(logits + gumbel[:, :k + 1], axis=1)


def fit_oracle(dataset: Dataset, model_name: str = "ease", params: dict | None = None, *, progress=None,
               cancel=None) -> Recommender:
    """The oracle model, fitted on every interaction of the dataset (a numpy baseline: fast, no TensorFlow)."""
    if model_name not in BASELINES:
        from engine.errors import EngineError
        raise EngineError(f"the oracle must be a baseline ({', '.join(BASELINES)}), not {model_name!r}")
    model = get_model_class(model_name)(**(params or {}))
    model.fit(dataset, progress=progress, cancel=cancel)
    return model


def true_utility(oracle: Recommender, dataset: Dataset, users: np.ndarray, *, cancel=None) -> np.ndarray:
    """(len(users), n_items) float32: each user's oracle scores from their whole history, z-scored per user."""
    pos = dataset.positive_mask()
    row_of = np.full(dataset.n_users, -1, dtype=np.int64)
    row_of[users] = np.arange(len(users))
    rows = row_of[dataset.user_idx[pos]]
    keep = rows >= 0
    hist = history_matrix(rows[keep], dataset.item_idx[pos][keep], len(users), dataset.n_items)
    out = np.empty((len(users), dataset.n_items), dtype=np.float32)
    for a in range(0, len(users), BLOCK):
        check(cancel)
        s = score_block(oracle, hist[a:a + BLOCK]).astype(np.float64)
        mean = s.mean(axis=1, keepdims=True)
        std = s.std(axis=1, keepdims=True)
        out[a:a + BLOCK] = np.divide(s - mean, std, out=np.zeros_like(s), where=std > 0)
    return out
