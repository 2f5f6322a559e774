"""Which space the diversity slider re-ranks in by default, chosen per run on its own validation users.

Rule: for every available space (engine.explore.rerank_space) the frontier is swept on the "selection"
half of the evaluated users (engine.explore.frontier.user_part), and the space with the largest
*attainable area* wins: the area under f(x) = the best NDCG@10 reached at a category ILD@10 of at least x,
for x from the undiversified list's ILD up to 1. The undiversified list is the same in every space, so all
curves start at one point; a space scores by how much accuracy it keeps while reaching a diversity people
notice (category ILD, docs/evaluation.md), and a space that cannot reach a diversity gets nothing there.
Ties (within 1e-9) go to the earlier space in RERANK_SPACES. Figures about the chosen space are then
reported on the other half ("report"), never on the users it was chosen on."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.errors import EngineError
from engine.explore.frontier import cached_frontier
from engine.explore.rerank_space import RERANK_SPACES, available_spaces
from engine.jobs.cancel import check
from engine.types import StepProgress


@dataclass(frozen=True)
class SpaceChoice:
    space: str                                   # the chosen space
    areas: dict[str, float]                      # attainable area per space swept
    curves: dict[str, list[dict]] = field(default_factory=dict)   # the selection half's frontier rows per space
    method: str = "mmr"
    n_users: int = 0


def attainable_area(rows: list[dict], k: int = 10) -> float:
    """Area under the best NDCG@k reachable at category ILD@k >= x, from the first row's ILD to 1."""
    pts = [(float(r[f"ild_genre@{k}"]), float(r[f"ndcg@{k}"])) for r in rows
           if r.get(f"ild_genre@{k}") is not None and r.get(f"ndcg@{k}") is not None
           and np.isfinite(r[f"ild_genre@{k}"]) and np.isfinite(r[f"ndcg@{k}"])]
    if not pts:
        return 0.0
    start = pts[0][0]
    xs = sorted({x for x, _ in pts if x >= start} | {start, 1.0})
    area = 0.0
    for a, b in zip(xs[:-1], xs[1:]):
        # on (a, b] the reachable points are those with ILD >= b (every x in the interval needs ILD >= x)
        best = max((n for x, n in pts if x >= b - 1e-12), default=0.0)
        area += (b - a) * best
    return area


def choose_space(run, method: str = "mmr", *, points: int = 11, k: int = 10, n_candidates: int = 100,
                 max_users: int | None = 400, spaces: list[str] | None = None, progress=None,
                 cancel=None) -> SpaceChoice:
    """Sweep every available space on the selection users and pick the largest attainable area. Each sweep
    is kept in the run's folder (engine.explore.frontier.cached_frontier): the second call is instant."""
    if run.evaluation_split(1) is None:
        raise EngineError("this run has no holdout, so no validation users to choose a re-ranking space on; "
                          "pick the space yourself")
    todo = [s for s in (spaces or available_spaces(run.dataset, run.model)) if s in RERANK_SPACES]
    areas: dict[str, float] = {}
    curves: dict[str, list[dict]] = {}
    for n, space in enumerate(todo):
        check(cancel)
        rows = cached_frontier(run, method, points, None, cancel, k=k, n_candidates=n_candidates,
                               max_users=max_users, space=space, users="selection")
        curves[space] = rows
        areas[space] = attainable_area(rows, k)
        if progress is not None:
            progress(StepProgress("choosing the re-ranking space", n + 1, len(todo)))
    best = max(todo, key=lambda s: (round(areas[s], 9), -RERANK_SPACES.index(s)))
    n_users = int(curves[best][0]["n_users"]) if curves[best] else 0
    return SpaceChoice(best, areas, curves, method, n_users)


def default_space(run, method: str = "mmr", **kwargs) -> str:
    """The run's chosen space; "model" (else text) for a run without a holdout to choose on."""
    if run.evaluation_split(1) is None:
        return available_spaces(run.dataset, run.model)[0]
    return choose_space(run, method, **kwargs).space


def attach_encoded(store, dataset) -> bool:
    """Attach the catalogue's encoder vectors as the semantic space when every item has one (auto then
    considers it); True when attached."""
    from engine.encoder.catalogue import encoded_fraction
    from engine.explore.similarity import attach_semantic, has_semantic
    if has_semantic(dataset):
        return True
    if store is None or encoded_fraction(store, dataset) < 1.0:
        return False
    attach_semantic(store, dataset)
    return True


def resolve_rerank_space(store, run, space: str, method: str = "mmr", **kwargs) -> str:
    """What a front end re-ranks in for ``space``: "auto" is the run's chosen space (sweeping the frontier
    on its validation users the first time), "semantic" attaches the encoded catalogue, the others as named."""
    if space == "semantic":
        from engine.explore.similarity import attach_semantic
        attach_semantic(store, run.dataset)
        return space
    if space == "auto":
        attach_encoded(store, run.dataset)
        return default_space(run, method, **kwargs)
    return space
