"""The Explore view works through a lean run (issue 12: 25M interactions): the app's process holds the
users and the catalogue but no interaction table, each pick reads its user through the store process,
and what it shows (history, counts, list, metrics, frontier) is what the whole-dataset run gives."""
from __future__ import annotations

import numpy as np

from tests.gui.conftest import make_controller


def _full_run(db, run_id):
    from engine.runs.loaded import load_run
    from engine.store import open_store
    store = open_store(str(db))
    return store, load_run(store, run_id)


def test_explorer_runs_lean_and_shows_what_the_whole_run_gives(qtbot, tiny_db, tmp_path):
    from engine.explore.frontier import frontier
    from engine.explore.live_list import UserRecommendations
    ctrl = make_controller(qtbot, tiny_db, tmp_path, "--view", "explore", auto_frontier=True)
    panel = ctrl.explorer_panel
    qtbot.waitUntil(lambda: panel.rec is not None and bool(panel.frontier.rows), timeout=120000)
    run = panel.run
    assert run.source is not None and run.dataset.n_interactions == 0 and run.split is None
    store, full = _full_run(tiny_db, run.info.id)
    try:
        assert panel.live.user == full.default_user()
        assert np.array_equal(panel.users.model._counts, np.bincount(full.dataset.user_idx,
                                                                      minlength=full.dataset.n_users))
        strip = (lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows])
        space = panel.live.candidates().space       # the space "auto" chose, swept on the selection half
        assert panel.choice is not None and space == panel.choice.space
        assert strip(panel.frontier.rows) == strip(frontier(full, "mmr", 11, max_users=400, space=space,
                                                            users="selection"))
        # pick other users: each one's history and list as the whole run has them
        for u in (3, 41, int(full.split.test_users[-1])):
            with qtbot.waitSignal(panel.list_updated, timeout=30000):
                panel.users.user_picked.emit(u)
            qtbot.waitUntil(lambda: panel.live is not None and panel.live.user == u, timeout=30000)
            qtbot.waitUntil(lambda: panel.rec is not None and panel.live.user == u, timeout=30000)
            view = UserRecommendations(full, u, rerank_space=space)
            want = view.rerank(panel.rec.tradeoff, panel.rec.method, panel.k.value())
            assert [r.item for r in panel.rec.rows] == [r.item for r in want.rows]
            assert repr(panel.rec.metrics) == repr(want.metrics)
            items, _, _ = view.timeline()
            assert panel.history.rowCount() == len(items)
            assert np.array_equal(panel.live.history()[0], full.history(u)[0])
    finally:
        store.close()


def test_dataset_figures_from_streamed_counts_match_the_whole_dataset(tiny_db):
    from engine.data.dataset import load_dataset
    from engine.data.split import time_split
    from engine.data.stats import compute_stats
    from engine.store import open_store
    store = open_store(str(tiny_db))
    try:
        ds = load_dataset(store, 1)
        st = compute_stats(store, ds.info.id)
        sp = time_split(ds)
        r = ds.rating[~np.isnan(ds.rating)]
        values, counts = np.unique(r, return_counts=True)
        assert (st.n_interactions, st.n_positives) == (ds.n_interactions, int(ds.positive_mask().sum()))
        assert np.array_equal(st.rating_values, values) and np.array_equal(st.rating_counts, counts)
        assert np.array_equal(st.per_item, np.sort(np.bincount(ds.item_idx, minlength=ds.n_items))[::-1])
        assert np.array_equal(st.per_user, np.sort(np.bincount(ds.user_idx, minlength=ds.n_users))[::-1])
        assert st.split["evaluated users"] == len(sp.test_users)
        assert st.split["train interactions"] == sp.train.n_interactions
        assert st.split["test positives"] == sum(len(t) for t in sp.test_items)
        from collections import Counter
        assert st.genres == Counter(g for gs in ds.genres for g in gs).most_common()   # ties in the same order
        assert (st.n_users, st.n_items) == (ds.n_users, ds.n_items)
    finally:
        store.close()
