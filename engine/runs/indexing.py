"""`llmrec index` and the app's "Build index": a run's item vectors indexed (engine.retrieval.index) and the
index saved beside the run's files, its search width tuned on the run's own users."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.errors import EngineError
from engine.jobs.cancel import check
from engine.retrieval.index import ANN_MIN_ITEMS, IndexParams, build_index
from engine.runs.loaded import load_run


def build_run_index(store, run_id: int, *, params: IndexParams | None = None, force: bool = False,
                    progress=None, cancel=None) -> Path:
    """The background job behind `llmrec index` and the app's "Build index": index a run's item vectors
    and save the index beside its files. Below ANN_MIN_ITEMS exact search is used unless `force`."""
    run = load_run(store, run_id)
    model = run.model
    vectors = model.item_vectors()
    if vectors is None or not hasattr(model, "query_vectors") or model.query_vectors([np.zeros(0, np.int64)]) is None:
        raise EngineError(f"run {run_id} ({run.info.model}) has no item and user vectors to index; "
                          "exact scoring is used for it")
    if len(vectors) < ANN_MIN_ITEMS and not force:
        raise EngineError(f"run {run_id} has {len(vectors):,} items: below {ANN_MIN_ITEMS:,} exact search is "
                          "used (fast and exact); pass --force to build an index anyway")
    index = build_index(vectors, params, queries=user_queries(run), progress=progress, cancel=cancel)
    check(cancel)
    return index.save(run.directory)


def user_queries(run, n: int = 200, seed: int = 0) -> np.ndarray | None:
    """The query vectors of up to n random users of the run's dataset (what nprobe is tuned on)."""
    users = np.random.default_rng(seed).permutation(run.dataset.n_users)
    hs = [h for h in (run.history(int(u)) for u in users[:4 * n]) if len(h[0])][:n]
    if not hs:
        return None
    return np.asarray(run.model.query_vectors([h[0] for h in hs], [h[1] for h in hs]), np.float32)
