"""The feedback loop: a like and a dislike change the next list at once, persist across reopening
the database, and can be undone. Real SQLite file and real PostgreSQL database, real EASE run on a
small demo dataset."""
from __future__ import annotations

import numpy as np
import pytest

from engine.data.demo import create_demo_dataset
from engine.explore.live_list import UserRecommendations
from engine.explore.similarity import nearest_items
from engine.runs.baselines import fit_baseline
from engine.runs.loaded import load_run
from engine.store import open_store


@pytest.fixture
def small_run(db_url, tmp_path):
    """(reopen, run id): `reopen()` opens the same database (SQLite file or PostgreSQL) and model files."""
    def reopen():
        return open_store(db_url, artifacts=tmp_path / "artifacts")
    store = reopen()
    create_demo_dataset(store, "small demo", n_items=400, n_users=300)
    run_id = fit_baseline(store, "small demo", "ease")
    store.close()
    return reopen, run_id


def _user_with_history(run) -> int:
    for u in run.split.test_users:
        if len(run.history(int(u))[0]) >= 10:
            return int(u)
    raise AssertionError("no user with history")


def test_like_dislike_persist_and_undo(small_run):
    reopen, run_id = small_run
    store = reopen()
    try:
        run = load_run(store, run_id)
        user = _user_with_history(run)
        view = UserRecommendations(run, user, store)
        before = [r.item for r in view.rerank(0.0, "mmr", 10).rows]
        hist_before = view.history()[0]

        liked = before[3]
        view.like(liked)
        assert view.history()[0][-1] == liked                      # joins the history, newest last
        after_like = [r.item for r in view.rerank(0.0, "mmr", 10).rows]
        assert liked not in after_like and after_like != before
        # the next list is exactly what the model scores from the extended history
        items, ratings = view.history()
        s = run.model.score(items, ratings).astype(np.float64)
        s[np.concatenate([hist_before, [liked]])] = -np.inf
        assert after_like == np.argsort(-s, kind="stable")[:10].tolist()

        disliked = after_like[0]
        view.dislike(disliked)
        after_dislike = view.rerank(0.0, "mmr", 10)
        items_d = [r.item for r in after_dislike.rows]
        assert disliked not in items_d
        nb, sims = nearest_items([disliked], "model", dataset=run.dataset, model=run.model, n=20)
        cand = view.candidates()
        demoted = [i for i, sim in zip(nb[0], sims[0]) if sim > 0.2 and i in cand.items]
        assert demoted, "the disliked item has close neighbours in the pool"
        for i in demoted:       # every close neighbour lost score
            assert cand.scores[list(cand.items).index(i)] < run.model.score(items, ratings)[i]
        view.not_interested(items_d[0])
        assert items_d[0] not in [r.item for r in view.rerank(0.0, "mmr", 10).rows]
        final = [r.item for r in view.rerank(0.0, "mmr", 10).rows]
    finally:
        store.close()

    store = reopen()                                       # reopen: feedback survives
    try:
        run = load_run(store, run_id)
        view = UserRecommendations(run, user, store)
        assert [(f.item, f.kind) for f in view.feedback] == [(liked, "like"), (disliked, "dislike"),
                                                             (items_d[0], "not_interested")]
        assert [r.item for r in view.rerank(0.0, "mmr", 10).rows] == final
        view.undo()
        view.undo()
        view.undo()
        assert view.feedback == []
        assert [r.item for r in view.rerank(0.0, "mmr", 10).rows] == before
    finally:
        store.close()
    store = reopen()
    try:
        assert UserRecommendations(load_run(store, run_id), user, store).feedback == []
    finally:
        store.close()


def test_live_list_rows_and_metrics(small_run):
    reopen, run_id = small_run
    store = reopen()
    try:
        run = load_run(store, run_id)
        view = UserRecommendations(run, _user_with_history(run))     # no store: feedback kept in memory
        plain, diverse = view.rerank(0.0, "dpp", 10), view.rerank(1.0, "dpp", 10)
        assert [r.rank for r in plain.rows] == list(range(1, 11))
        assert [r.score_rank for r in plain.rows] == list(range(1, 11))
        assert not any(r.promoted for r in plain.rows) and any(r.promoted for r in diverse.rows)
        assert diverse.metrics.ild_model > plain.metrics.ild_model
        assert all(r.explanation for r in diverse.rows)
        promoted = next(r for r in diverse.rows if r.promoted)
        assert "Promoted for diversity" in promoted.explanation
        assert view.candidates() is view.candidates()                # cached between slider moves
        fid = view.dislike(plain.rows[0].item)
        assert fid < 0 and plain.rows[0].item not in [r.item for r in view.rerank(0.0, "dpp", 10).rows]
        view.undo(fid)
        assert [r.item for r in view.rerank(0.0, "dpp", 10).rows] == [r.item for r in plain.rows]
        cal = view.rerank(0.5, "calibration", 10)
        assert len(cal.rows) == 10
    finally:
        store.close()


def test_plain_data_live_list_matches_the_store_backed_one(small_run):
    """The app's path (store functions returning plain entries, a live list built from them) gives
    the CLI's list; undo of an older entry keeps the newer ones."""
    from engine.explore.feedback import give_feedback, list_feedback, undo_and_list
    from engine.explore.live_list import live_list
    reopen, run_id = small_run
    store = reopen()
    try:
        run = load_run(store, run_id)
        user = _user_with_history(run)
        ds_id = run.info.dataset_id
        app = live_list(run, user, list_feedback(store, ds_id, user))
        top = [r.item for r in app.rerank(0.3, "mmr", 10).rows]
        entries = give_feedback(store, ds_id, user, top[0], "dislike")
        entries = give_feedback(store, ds_id, user, top[1], "like")
        assert [(e.item, e.kind) for e in entries] == [(top[0], "dislike"), (top[1], "like")]
        assert all(e.created_at for e in entries)
        app = app.with_feedback(entries)
        cli = UserRecommendations(run, user, store)
        assert [r.item for r in app.rerank(0.3, "mmr", 10).rows] == [r.item for r in cli.rerank(0.3, "mmr", 10).rows]
        assert app.n_interactions() == cli.n_interactions()
        left = undo_and_list(store, ds_id, user, entries[0].id)          # the older one
        assert [(e.item, e.kind) for e in left] == [(top[1], "like")]
        with pytest.raises(Exception, match="no active feedback"):
            undo_and_list(store, ds_id, user, entries[0].id)
        undo_and_list(store, ds_id, user)
        assert list_feedback(store, ds_id, user) == []
    finally:
        store.close()
