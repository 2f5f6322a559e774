"""The rounds. Each round every simulated user gets a list of k from the system under test (its model's
top candidates, re-ranked by the policy), chooses by the oracle's choice model, and the choice becomes an
interaction; every `update_every` rounds the system is updated on TRAIN plus what was consumed so far:
"refit" fits a fresh model (the numpy baselines), "warm" continues training the policy's current model
from its weights (the LSTM: engine.simulation.updates), "none" keeps the model, which only sees the longer
histories (for the LSTM this is fold-in: its user tower encodes any history, in time order).

Several policies run side by side, each in its own copy of the world, on ONE random stream: the same
users and, every round, the same Gumbel noise per user and list position, so their curves differ only
by what the policies showed (common random numbers). The same seed gives the same figures.

An ideal recommender runs alongside on the same stream: its list is each user's k best unconsumed items
by true utility (the oracle's own top-k). Its homogenisation is the baseline Chaney et al. (2018) measure
against: each policy's `homogenisation_vs_ideal` is its mean Jaccard minus the ideal's, at the same round
(0: users are as alike as their own true tastes make them; above 0: the system made them more alike)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import scipy.sparse as sp

from engine.data.dataset import Dataset
from engine.errors import EngineError
from engine.jobs.cancel import check
from engine.models.base import Recommender
from engine.simulation import metrics as M
from engine.simulation.batched import rerank_many
from engine.simulation.oracle import BLOCK, ChoiceModel
from engine.simulation.scoring import Sequences, history_matrix, reads_sets, score_block
from engine.simulation.space import ItemSpace
from engine.types import StepProgress

UPDATES = ("refit", "warm", "none")
STAGE = "Simulating (rounds)"


@dataclass(frozen=True)
class Policy:
    """A re-ranking policy: method (mmr | ild | dpp) and trade-off in [0, 1] (0: the model's own order)."""
    method: str
    tradeoff: float

    @property
    def label(self) -> str:
        return f"{self.method}:{self.tradeoff:g}"


def parse_policy(text: str) -> Policy:
    """``mmr:0.3`` -> Policy("mmr", 0.3); a bare ``mmr`` is trade-off 0."""
    method, _, value = str(text).strip().partition(":")
    method = method.strip().lower()
    if method not in ("mmr", "ild", "dpp"):
        raise EngineError(f"policy {text!r}: the method must be mmr, ild or dpp (e.g. mmr:0.3)")
    try:
        t = float(value) if value else 0.0
    except ValueError:
        raise EngineError(f"policy {text!r}: the trade-off must be a number in [0, 1]") from None
    if not 0.0 <= t <= 1.0:
        raise EngineError(f"policy {text!r}: the trade-off must be in [0, 1]")
    return Policy(method, t)


@dataclass(frozen=True)
class LoopSettings:
    rounds: int = 20
    k: int = 10                     # list length shown each round
    candidates: int = 100           # the model's top-N the policy re-ranks
    update_every: int = 5           # update the system every R rounds
    update: str = "refit"           # refit | warm | none
    seed: int = 0
    choice: ChoiceModel = field(default_factory=ChoiceModel)
    pairs: int = 20_000             # user pairs the homogenisation is averaged over
    track: int = 5                  # first simulated users whose lists are kept per round (the app shows them)

    def settings(self) -> dict:
        d = dataclasses.asdict(self)
        d["choice"] = self.choice.settings()
        return d


@dataclass
class World:
    """What the loop starts from: TRAIN, the simulated users, their true utilities, the space, the system."""
    train: Dataset
    users: np.ndarray               # (U,) dataset user indices simulated
    utility: np.ndarray             # (U, n_items) true utility (oracle.true_utility)
    space: ItemSpace
    model: Recommender              # the system under test at round 0 (fitted on TRAIN)
    refit: Callable[[Dataset], Recommender] | None = None   # a fresh system fitted on the given data
    warm: Callable[[Recommender, Dataset], Recommender] | None = None   # the given system trained further on it

    @property
    def popularity(self) -> np.ndarray:
        """TRAIN positive counts per item: the popularity shown and consumed items are measured by."""
        return np.bincount(self.train.item_idx[self.train.positive_mask()], minlength=self.train.n_items)


@dataclass
class PolicyRun:
    """One policy's outcome: metrics per round, exposure per round and item, the tracked users' lists."""
    policy: Policy
    metrics: list[dict] = field(default_factory=list)
    exposure: list[np.ndarray] = field(default_factory=list)          # per round (n_items,) times shown
    lists: list[dict[int, list[int]]] = field(default_factory=list)   # per round {user index: shown items}
    chosen: list[dict[int, int]] = field(default_factory=list)        # per round {user index: item or -1}


class _PolicyWorld:
    """One policy's copy of the world: its model and what its users consumed."""

    def __init__(self, world: World, policy: Policy, rounds: int) -> None:
        self.policy, self.model = policy, world.model
        self.consumed = np.full((len(world.users), rounds), -1, dtype=np.int64)


def simulate(world: World, policies: list[Policy], settings: LoopSettings, *, progress=None,
             cancel=None) -> list[PolicyRun]:
    """Run every policy for `settings.rounds` rounds; returns one PolicyRun per policy (nothing stored)."""
    update = _updater(world, settings.update)
    if not policies:
        raise EngineError("give at least one policy")
    report = progress or (lambda _u: None)
    train, users, n_items = world.train, world.users, world.train.n_items
    n_users, k, rounds = len(users), settings.k, settings.rounds
    row_of = np.full(train.n_users, -1, dtype=np.int64)
    row_of[users] = np.arange(n_users)
    mine = row_of[train.user_idx] >= 0
    pos = train.positive_mask() & mine
    history0 = history_matrix(row_of[train.user_idx[pos]], train.item_idx[pos], n_users, n_items)
    seen0 = history_matrix(row_of[train.user_idx[mine]], train.item_idx[mine], n_users, n_items)
    unseen_min = n_items - int(np.diff(seen0.indptr).max(initial=0)) - rounds
    n_cand = max(min(settings.candidates, unseen_min), 0)
    if n_cand < k:
        raise EngineError(f"the catalogue is too small: a user may have only {max(unseen_min, 0)} unseen items "
                          f"left for lists of {k}")
    popularity = world.popularity.astype(np.float64)
    rng = np.random.default_rng(settings.seed)
    pairs = M.user_pairs(n_users, settings.pairs, rng)
    track = np.arange(min(settings.track, n_users))
    best, best_u = _best_unseen(world.utility, seen0, k + rounds, cancel)   # the oracle's ideal lists, per user
    sequences = None if reads_sets(world.model) else Sequences(train, users)
    states = [_PolicyWorld(world, p, rounds) for p in policies]
    runs = [PolicyRun(p) for p in policies]
    cumulative = np.zeros(len(policies))
    ideal = np.full((n_users, rounds), -1, dtype=np.int64)      # what the ideal recommender's users consumed
    report(StepProgress(STAGE, 0, rounds))
    for r in range(rounds):
        gumbel = rng.gumbel(size=(n_users, k + 1))        # one draw per user and slot, shared by the policies
        ideal_homog = _ideal_round(world.utility, best, ideal, r, settings.choice, gumbel, pairs)
        for pi, (state, run) in enumerate(zip(states, runs)):
            done = state.consumed[:, :r]
            took = done >= 0
            extra = history_matrix(np.nonzero(took)[0], done[took], n_users, n_items)
            history = history0 + extra
            history.data[:] = 1.0
            seen = seen0 + extra
            shown = np.empty((n_users, k), dtype=np.int64)
            chosen = np.empty(n_users, dtype=np.int64)
            ndcg = np.empty(n_users)
            ild = np.empty(n_users)
            for a in range(0, n_users, BLOCK):
                check(cancel)
                b = min(a + BLOCK, n_users)
                scores = score_block(state.model, history[a:b],
                                     None if sequences is None else sequences.block(a, b, done[a:b]))
                block_seen = seen[a:b].tocoo()
                scores[block_seen.row, block_seen.col] = -np.inf
                cand = top_columns(scores, n_cand)
                cs = np.take_along_axis(scores, cand, axis=1)
                by_score = np.lexsort((cand, -cs), axis=1)       # best first, ties by lower item index
                cand = np.take_along_axis(cand, by_score, axis=1)
                cs = np.take_along_axis(cs, by_score, axis=1)
                p = state.policy
                sims = world.space.block(cand) if p.tradeoff > 0 else None
                picks = (np.broadcast_to(np.arange(k), (b - a, k)) if sims is None
                         else rerank_many(cs, sims, k, p.tradeoff, p.method))
                lists = np.take_along_axis(cand, picks, axis=1)
                shown[a:b] = lists
                util = world.utility[a:b]
                shown_u = np.take_along_axis(util, lists, axis=1).astype(np.float64)
                slot = settings.choice.choose(shown_u, gumbel[a:b])
                chosen[a:b] = np.where(slot < k, lists[np.arange(b - a), np.minimum(slot, k - 1)], -1)
                ndcg[a:b] = M.ndcg_against_oracle(shown_u, best_left(best[a:b], best_u[a:b], done[a:b], k))
                ild[a:b] = world.space.ild(lists)
            state.consumed[:, r] = chosen
            took = state.consumed[:, :r + 1] >= 0
            consumed = history_matrix(np.nonzero(took)[0], state.consumed[:, :r + 1][took], n_users, n_items)
            homog = M.homogenisation(consumed, pairs)
            gained = M.consumed_utility(world.utility, chosen)
            cumulative[pi] += float(gained.mean())
            run.metrics.append({
                "utility": float(gained.mean()),
                "cumulative_utility": float(cumulative[pi]),
                "choice_rate": float((chosen >= 0).mean()),
                "ndcg": float(ndcg.mean()),
                "coverage": M.coverage(shown, n_items),
                "gini_exposure": M.exposure_gini(shown, n_items),
                "pop_shown": M.mean_popularity(shown, popularity),
                "pop_consumed": M.mean_popularity(chosen, popularity),
                "ild": float(np.nanmean(ild)) if np.isfinite(ild).any() else float("nan"),
                "homogenisation": homog,
                "homogenisation_ideal": ideal_homog,
                "homogenisation_vs_ideal": homog - ideal_homog,
            })
            run.exposure.append(M.exposure_counts(shown, n_items).astype(np.int32))
            run.lists.append({int(users[t]): shown[t].tolist() for t in track})
            run.chosen.append({int(users[t]): int(chosen[t]) for t in track})
            if update is not None and (r + 1) % settings.update_every == 0 and r + 1 < rounds:
                check(cancel)
                state.model = update(state.model, _with_consumed(train, users, state.consumed[:, :r + 1]))
        report(StepProgress(STAGE, r + 1, rounds))
    return runs


def _updater(world: World, update: str) -> Callable[[Recommender, Dataset], Recommender] | None:
    """The update as (the policy's current model, TRAIN plus consumed) -> its next model; None for "none"."""
    if update not in UPDATES:
        raise EngineError(f"unknown update {update!r}; choose one of {', '.join(UPDATES)}")
    if update == "none":
        return None
    if update == "warm":
        if world.warm is None:
            raise EngineError("this system cannot be warm-started (an LSTM can); use update 'refit' or 'none'")
        return world.warm
    refit = world.refit
    if refit is None:
        raise EngineError("this system cannot be refitted here; use update 'none'")
    return lambda _model, data: refit(data)


def top_columns(scores: np.ndarray, n: int) -> np.ndarray:
    """(B, n) column indices of each row's n largest values, in no particular order. numpy's introselect
    crawls on many equal values, and an item-item model scores most of a catalogue exactly 0: 1e-30 times
    the column index is added first, which leaves every nonzero float32 score as it is and orders the
    zeros (the higher index first). On 2,000 x 10,506 random scores, 93% of them zero: 0.16 s instead of
    2.6 s for argpartition of the scores as they are (timed in one process)."""
    b, m = scores.shape
    if n >= m:
        return np.broadcast_to(np.arange(m), (b, m)).copy()
    distinct = scores + np.arange(m, dtype=scores.dtype) * scores.dtype.type(1e-30)
    return np.argpartition(distinct, m - n, axis=1)[:, m - n:]


def _best_unseen(utility: np.ndarray, seen: sp.csr_matrix, n: int, cancel) -> tuple[np.ndarray, np.ndarray]:
    """Each user's n best items by true utility among those not seen in TRAIN, best first, and their utilities:
    enough for the ideal list of every round (at most one item consumed per round)."""
    users, m = utility.shape
    n = min(n, m)
    items = np.empty((users, n), dtype=np.int64)
    for a in range(0, users, BLOCK):
        check(cancel)
        u = utility[a:a + BLOCK].astype(np.float64)
        s = seen[a:a + BLOCK].tocoo()
        u[s.row, s.col] = -np.inf
        top = top_columns(u, n)
        order = np.argsort(-np.take_along_axis(u, top, axis=1), axis=1, kind="stable")
        items[a:a + BLOCK] = np.take_along_axis(top, order, axis=1)
    values = np.take_along_axis(utility, items, axis=1).astype(np.float64)
    seen_best = np.asarray(seen[np.arange(users)[:, None], items].todense()) > 0
    values[seen_best] = -np.inf            # fewer than n unseen items: the seen ones count for nothing
    return items, values


def _ideal_round(utility: np.ndarray, best: np.ndarray, consumed: np.ndarray, r: int, choice: ChoiceModel,
                 gumbel: np.ndarray, pairs: np.ndarray) -> float:
    """One round of the ideal recommender (each user's k best unconsumed items by true utility, best first),
    chosen from with this round's noise; fills `consumed[:, r]` and returns the homogenisation of what its
    users have consumed so far."""
    n_users, k = len(consumed), gumbel.shape[1] - 1
    lists = ideal_lists(best, consumed[:, :r], k)
    slot = choice.choose(np.take_along_axis(utility, lists, axis=1).astype(np.float64), gumbel)
    consumed[:, r] = np.where(slot < k, lists[np.arange(n_users), np.minimum(slot, k - 1)], -1)
    took = consumed[:, :r + 1] >= 0
    return M.homogenisation(history_matrix(np.nonzero(took)[0], consumed[:, :r + 1][took], n_users,
                                           utility.shape[1]), pairs)


def _consumed_mask(items: np.ndarray, consumed: np.ndarray) -> np.ndarray:
    """(B, n) whether each of a row's `items` is among its `consumed` (B, rounds so far; -1 for nothing)."""
    if not consumed.shape[1]:
        return np.zeros(items.shape, bool)
    return (items[:, :, None] == consumed[:, None, :]).any(axis=2)


def ideal_lists(items: np.ndarray, consumed: np.ndarray, k: int) -> np.ndarray:
    """(B, k) the first k of each row's `items` (best first) not yet consumed: the ideal recommender's lists."""
    first = np.argsort(_consumed_mask(items, consumed), axis=1, kind="stable")[:, :k]   # unconsumed, in order
    return np.take_along_axis(items, first, axis=1)


def best_left(items: np.ndarray, values: np.ndarray, consumed: np.ndarray, k: int) -> np.ndarray:
    """(B, k) utilities of the best k items not yet consumed (the ideal list of this round)."""
    left = np.where(_consumed_mask(items, consumed), -np.inf, values)
    return -np.sort(-left, axis=1)[:, :k]


def _with_consumed(train: Dataset, users: np.ndarray, consumed: np.ndarray) -> Dataset:
    """TRAIN plus the consumed items as unrated interactions (unrated counts as positive), after TRAIN in time."""
    took = consumed >= 0
    rows, cols = np.nonzero(took)
    t0 = int(train.timestamp.max(initial=0)) + 1
    return dataclasses.replace(
        train,
        user_idx=np.concatenate([train.user_idx, users[rows].astype(train.user_idx.dtype)]),
        item_idx=np.concatenate([train.item_idx, consumed[took].astype(train.item_idx.dtype)]),
        rating=np.concatenate([train.rating, np.full(len(rows), np.nan, dtype=train.rating.dtype)]),
        timestamp=np.concatenate([train.timestamp, (t0 + cols).astype(train.timestamp.dtype)]))
