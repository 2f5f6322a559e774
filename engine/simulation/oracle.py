"""Ground truth for the simulation: a "true preference" oracle and the choice model.

The oracle is a strong model (EASE by default) fitted on ALL of a dataset's interactions, test included:
it stands for what users really like, which the system under test (fitted on TRAIN only) tries to learn.
A user's true utility of an item comes from the item's rank in the oracle's scores for that user, on a
log scale: ``u = 1 - ln(rank) / ln(n_items)`` (rank 1 = the user's favourite: u = 1; rank 10 of 10,000:
0.75; rank 100: 0.5; the last item: 0; tied scores share their average rank). The raw scores of an
item-item model are heavy-tailed and on a scale of their own; ranks put every user and every oracle on
one scale, and the log keeps the top of the list (where recommendations live) well separated.

Choice (a multinomial logit over the shown list, as in the simulators of Chaney et al. 2018 and
RecSim): the user picks item i at position p (0-based) with probability proportional to
``exp(u_i / temperature) * (p + 1) ** -position_decay``, or nothing with weight ``exp(no_choice /
temperature)``. Defaults: temperature 0.1 (the user's favourite is e^2.5 = 12 times as likely as their
10th best of 10,000 at the same position), position decay 1 (a DCG-like fall-off: the 2nd slot has half
the weight of the 1st), no_choice 0.8 (choosing nothing is worth about the user's 6th best item of 10,000).
Draws are Gumbel-max, so every policy can share one stream of noise."""
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
    temperature: float = 0.1
    position_decay: float = 1.0
    no_choice: float = 0.8

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
    """(len(users), n_items) float32 in [0, 1]: the log-rank utility (module docstring) of each item for each
    user, from the oracle's scores of the user's whole history."""
    pos = dataset.positive_mask()
    row_of = np.full(dataset.n_users, -1, dtype=np.int64)
    row_of[users] = np.arange(len(users))
    rows = row_of[dataset.user_idx[pos]]
    keep = rows >= 0
    hist = history_matrix(rows[keep], dataset.item_idx[pos][keep], len(users), dataset.n_items)
    # imported here, not at the top: scipy.stats costs ~0.7 s, and the app's GUI thread imports this
    # package to list simulations
    from scipy.stats import rankdata
    out = np.empty((len(users), dataset.n_items), dtype=np.float32)
    for a in range(0, len(users), BLOCK):
        check(cancel)
        rank = rankdata(-score_block(oracle, hist[a:a + BLOCK]), method="average", axis=1)
        out[a:a + BLOCK] = 1.0 - np.log(rank) / np.log(max(dataset.n_items, 2))
    return out
