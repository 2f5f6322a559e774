"""Choosing a model's settings on the dataset's own validation split (docs/evaluation.md: carved out of TRAIN
by the same rule), never on TEST. Baselines get a small fixed grid, searched in order (the first best
point wins ties), like PEERS.md's peers; the LSTM is tuned with Optuna (engine.models.lstm.tuning)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.data.split import Split
from engine.evaluation.metrics import accuracy_rows
from engine.evaluation.protocol import rank_users
from engine.jobs.cancel import check
from engine.models.registry import get_model_class
from engine.types import StepProgress

# Small grids (validation NDCG@10): the peers' grids of PEERS.md, thinned where a point never won there.
BASELINE_GRIDS: dict[str, list[dict]] = {
    "popularity": [{}],
    "itemknn": [{"k": k} for k in (50, 200, 400)],
    "ease": [{"l2": float(v)} for v in (50, 250, 1000)],
    "als": [{"factors": f, "regularization": r, "alpha": a}
            for f in (32, 128) for r in (10.0, 100.0) for a in (1.0, 10.0)],
}


def ndcg_rows(lists: np.ndarray, split: Split, k: int = 10) -> np.ndarray:
    """Per-user NDCG@k of ranked lists of `split.test_users` (binary gains, docs/evaluation.md)."""
    hits = np.zeros(lists[:, :k].shape, dtype=bool)
    for r, t in enumerate(split.test_items):
        hits[r] = np.isin(lists[r, :k], t)
    n_rel = np.array([len(t) for t in split.test_items])
    return accuracy_rows(hits, n_rel, k)["ndcg"]


def validation_ndcg(model, val: Split, k: int = 10, cancel=None) -> float:
    """Mean NDCG@k of a model fitted on `val.train`, full ranking, seen items excluded."""
    return float(ndcg_rows(rank_users(model, val, k, cancel=cancel), val, k).mean())


@dataclass(frozen=True)
class GridResult:
    params: dict
    val_ndcg10: float
    table: list[tuple[dict, float]]   # every grid point with its validation NDCG@10, in grid order
    model: object = None              # the best point's model fitted on the validation split's TRAIN (keep=True)


def tune_baseline(name: str, val: Split, grid: list[dict] | None = None, progress=None, cancel=None,
                  keep: bool = False) -> GridResult:
    """Fit each grid point on `val.train`, score it on the validation positives, keep the best (and, with
    `keep`, its fitted model)."""
    grid = BASELINE_GRIDS[name] if grid is None else grid
    table, kept = [], None
    for j, params in enumerate(grid):
        check(cancel)
        if progress is not None:
            progress(StepProgress(f"tuning {name} on validation", j, len(grid)))
        model = get_model_class(name)(**params)
        model.fit(val.train, cancel=cancel)
        table.append((params, validation_ndcg(model, val, cancel=cancel)))
        if keep and (kept is None or table[-1][1] > kept[0]):
            kept = (table[-1][1], model)
    best = max(range(len(table)), key=lambda j: (table[j][1], -j))
    return GridResult(params=table[best][0], val_ndcg10=table[best][1], table=table,
                      model=kept[1] if kept else None)
