"""`llmrec demo --users N --items M --interactions K`: deterministic, exact sizes, key-ordered blocks,
memory that does not grow with the number of interactions, and the demo's kind of signal."""
from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest

from engine.cli.main import main
from engine.data.dataset import load_dataset
from engine.data.demo_stream import user_lengths, write_scaled_demo
from engine.errors import CancelledError, EngineError
from engine.jobs.cancel import CancelToken


def _rows(store, name):
    ds = load_dataset(store, name)
    return ds, np.stack([ds.user_idx, ds.item_idx, ds.rating.astype(np.int64), ds.timestamp])


def test_same_arguments_same_dataset_and_sizes_hold(tmp_path, capsys):
    from engine.store import open_store
    dbs = [str(tmp_path / f"{n}.db") for n in ("a", "b")]
    for db in dbs:
        assert main(["--db", db, "demo", "--users", "300", "--items", "500", "--interactions", "6000",
                     "--json", "--name", "scaled"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert (out["n_users"], out["n_items"]) == (300, 500)
        assert 5950 <= out["n_interactions"] <= 6000           # only repeats that could not be redrawn go
    stores = [open_store(db) for db in dbs]
    try:
        (ds_a, a), (ds_b, b) = (_rows(s, "scaled") for s in stores)
        assert np.array_equal(a, b)
        assert list(ds_a.titles) == list(ds_b.titles) and list(ds_a.item_ids[:2]) == ["m00000", "m00001"]
        pairs = ds_a.user_idx.astype(np.int64) * ds_a.n_items + ds_a.item_idx
        assert len(np.unique(pairs)) == len(pairs)              # one interaction per (user, item)
        assert set(np.unique(ds_a.rating)) <= {1, 2, 3, 4, 5}
        assert all(1 <= len(g) <= 3 for g in ds_a.genres)
    finally:
        for s in stores:
            s.close()


def test_lengths_sum_exactly_and_ratings_follow_taste(store):
    n = user_lengths(1000, 100, 40_000, seed=3)
    assert n.sum() == 40_000 and n.min() >= 1 and n.max() <= 50
    ds_id = write_scaled_demo(store, "taste", n_users=400, n_items=2000, n_interactions=12_000, seed=5)
    ds = load_dataset(store, ds_id)
    # on-taste picks are rated higher: a user's most frequent genre gets better ratings than the rest
    top_genre = {}
    for u in range(ds.n_users):
        sel = ds.user_idx == u
        counts: dict[str, int] = {}
        for i in ds.item_idx[sel]:
            for g in ds.genres[i]:
                counts[g] = counts.get(g, 0) + 1
        top_genre[u] = max(counts, key=counts.get)
    on = np.array([top_genre[u] in ds.genres[i] for u, i in zip(ds.user_idx, ds.item_idx)])
    assert ds.rating[on].mean() > ds.rating[~on].mean() + 0.3   # 3.75 vs 3.32 here; no signal: equal


def test_memory_does_not_grow_with_interactions(tmp_path):
    """Peak traced memory at 4x the interactions stays within 1.5x (blocks of a fixed size)."""
    from engine.store import open_store
    peaks = []
    for k, n in enumerate((20_000, 80_000)):
        s = open_store(str(tmp_path / f"m{k}.db"))
        try:
            tracemalloc.start()
            write_scaled_demo(s, "m", n_users=n // 20, n_items=3000, n_interactions=n, block_events=5000)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
            s.close()
    assert peaks[1] < 1.5 * peaks[0], peaks


def test_cancel_and_name_clash_leave_nothing(store):
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        write_scaled_demo(store, "c", n_users=10, n_items=20, n_interactions=100, cancel=token)
    write_scaled_demo(store, "c", n_users=10, n_items=20, n_interactions=100)
    with pytest.raises(EngineError, match="already exists"):
        write_scaled_demo(store, "c", n_users=10, n_items=20, n_interactions=100)
    with pytest.raises(EngineError, match="do not fit"):
        write_scaled_demo(store, "d", n_users=10, n_items=20, n_interactions=101)
    with pytest.raises(EngineError, match="at least one interaction per user"):
        write_scaled_demo(store, "d", n_users=10, n_items=20, n_interactions=5)
    from engine.store import repository as repo
    with store.session() as s:
        assert [d.name for d in repo.list_datasets(s)] == ["c"]


def test_load_dataset_fetches_in_blocks(store, monkeypatch):
    """load_dataset reads interactions block by block into preallocated arrays: same result as one fetch."""
    import sqlite3

    import engine.data.dataset as D
    ds_id = write_scaled_demo(store, "blocks", n_users=50, n_items=80, n_interactions=700)
    monkeypatch.setattr(D, "FETCH_ROWS", 64)
    ds = load_dataset(store, ds_id)
    con = sqlite3.connect(store.engine.url.database)
    rows = con.execute("SELECT user_idx, item_idx, rating, timestamp FROM interactions WHERE dataset_id=? "
                       "ORDER BY user_idx, timestamp, item_idx", (ds_id,)).fetchall()
    con.close()
    assert len(rows) == ds.n_interactions > 64
    got = list(zip(ds.user_idx.tolist(), ds.item_idx.tolist(), ds.rating.tolist(), ds.timestamp.tolist()))
    assert got == [(u, i, float(r), t) for u, i, r, t in rows]
