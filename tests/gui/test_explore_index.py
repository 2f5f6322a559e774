"""The app's explorer retrieves candidates through the run's ANN index when the run has one (no
full-catalogue scoring), with the same list as exact scoring."""
from __future__ import annotations

import numpy as np

from tests.engine.test_index_quantize import run_db  # noqa: F401  (fixture)


def test_explore_session_uses_the_index(run_db):  # noqa: F811
    from engine.index import build_run_index
    from engine.storage import open_store
    from llmrec_gui.explore_logic import ExploreSession
    db, run_id = run_db
    store = open_store(db)
    try:
        exact = ExploreSession.load(store, run_id)
        assert exact.loaded.index is None
        build_run_index(store, run_id, force=True)
        ann = ExploreSession.load(store, run_id)
        assert ann.loaded.index is not None
        ann.model.score = None                   # would raise if the whole catalogue were scored
        for user in exact.loaded.split.test_users[:10]:
            a = ann.candidates(int(user), feedback=((5, "dislike"),))
            e = exact.candidates(int(user), feedback=((5, "dislike"),))
            assert len(a.items) == 100 and 5 not in a.items.tolist()
            assert len(np.intersect1d(a.items[:20], e.items[:20])) >= 19
            assert ann.make_list(a, k=10, tradeoff=0.5).items.shape == (10,)
    finally:
        store.close()
