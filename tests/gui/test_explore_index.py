"""The app's live list retrieves candidates through the run's ANN index when the run has one (no
full-catalogue scoring), with the same list as exact scoring."""
from __future__ import annotations

import numpy as np

from tests.engine.test_index_quantize import run_db  # noqa: F401  (fixture)


def test_live_list_uses_the_index(run_db):  # noqa: F811
    from engine.explore.feedback import FeedbackEntry
    from engine.explore.live_list import live_list
    from engine.explore.rerank import POOL_WIDEN
    from engine.runs.indexing import build_run_index
    from engine.runs.loaded import load_run
    from engine.store import open_store
    db, run_id = run_db
    store = open_store(db)
    try:
        exact_run = load_run(store, run_id)
        assert exact_run.index is None
        build_run_index(store, run_id, force=True)
        ann_run = load_run(store, run_id)
        assert ann_run.index is not None
        ann_run.model.score = None                   # would raise if the whole catalogue were scored
        dislike = [FeedbackEntry(-1, 5, "dislike")]
        for user in exact_run.split.test_users[:10]:
            a = live_list(ann_run, int(user), dislike).candidates()
            e = live_list(exact_run, int(user), dislike).candidates()
            assert len(a.items) == 100 * POOL_WIDEN and 5 not in a.items.tolist()     # the slider's pool
            assert len(np.intersect1d(a.items[:20], e.items[:20])) >= 19
            assert len(live_list(ann_run, int(user), dislike).rerank(0.5, "mmr", 10).rows) == 10
    finally:
        store.close()
