"""The explorer's lean run (engine.runs.lean.open_explore_run: users and catalogue only, each user's
interactions read per pick, counts streamed over blocks of users) gives exactly what the whole-dataset
run gives: histories, TEST items, novelty bits, default user, live lists, metrics and the frontier.
Real SQLite file, a dataset built to hit the split's corner cases (timestamp ties broken by item id,
missing timestamps, unrated rows, users below the positives minimum, non-positives after t_c)."""
from __future__ import annotations

import numpy as np
import pytest

from engine.data import aggregates
from engine.data.aggregates import counts_path, dataset_counts, interaction_counts
from engine.data.dataset import load_dataset, write_dataset
from engine.data.split import time_split
from engine.explore.frontier import frontier
from engine.explore.live_list import UserRecommendations
from engine.runs.baselines import fit_baseline
from engine.runs.lean import open_explore_run
from engine.runs.loaded import load_run
from engine.store import open_store


def _write(store, name="lean", n_users=120, n_items=90, seed=3) -> None:
    rng = np.random.default_rng(seed)
    users, items = [], []
    for u in range(n_users):
        k = int(rng.integers(1, 30))
        users += [u] * k
        items += rng.choice(n_items, size=k, replace=False).tolist()
    n = len(users)
    ts = rng.integers(0, 40, n).astype(np.int64) * 1000          # many ties: the item id breaks them
    ts[rng.random(n) < 0.05] = np.iinfo(np.int64).min             # missing timestamps
    rating = rng.integers(1, 6, n).astype(np.float32)
    rating[rng.random(n) < 0.05] = np.nan                          # unrated rows count as positives
    ids = [str(x) for x in rng.permutation(np.arange(1000, 1000 + 7 * n_items, 7))]   # rank != index
    write_dataset(store, name, user_ids=[f"u{u}" for u in range(n_users)], item_ids=ids,
                  titles=[f"Item {i}" for i in ids], genres=[["A", "B", "C"][int(i) % 3:] for i in ids],
                  descriptions=[""] * n_items, user_idx=np.array(users, np.int32),
                  item_idx=np.array(items, np.int32), rating=rating, timestamp=ts, rating_min=1.0, rating_max=5.0,
                  positive_threshold=3.5, source={})


@pytest.fixture
def runs(tmp_path):
    store = open_store(str(tmp_path / "lean.db"), artifacts=tmp_path / "artifacts")
    _write(store)
    holdout = fit_baseline(store, "lean", "ease")
    whole = fit_baseline(store, "lean", "itemknn", holdout=False)
    yield store, holdout, whole
    store.close()


def test_blocks_hold_whole_users_and_counts_add_up(runs, monkeypatch):
    store, _, _ = runs
    ds = load_dataset(store, "lean")
    sp = time_split(ds)
    seen = []
    real = aggregates.interaction_blocks

    def spy(*a, **k):
        for block in real(*a, **k):
            seen.append(np.unique(block[0]))
            yield block
    monkeypatch.setattr(aggregates, "interaction_blocks", spy)
    c = interaction_counts(store, load_dataset(store, "lean", with_interactions=False), ds.positive_threshold,
                           rows=37)
    assert len(seen) > 10                                          # many blocks, no user in two of them
    assert len(np.concatenate(seen)) == len(np.unique(np.concatenate(seen))) == ds.n_users
    pos = ds.positive_mask()
    tpos = sp.train.positive_mask()
    assert np.array_equal(c.per_user, np.bincount(ds.user_idx, minlength=ds.n_users))
    assert np.array_equal(c.per_item, np.bincount(ds.item_idx, minlength=ds.n_items))
    assert np.array_equal(c.item_positives, np.bincount(ds.item_idx[pos], minlength=ds.n_items))
    assert np.array_equal(c.item_train_positives, np.bincount(sp.train.item_idx[tpos], minlength=ds.n_items))
    assert np.array_equal(c.test_users, sp.test_users)
    assert c.split_stats == sp.stats
    assert 0 < sp.stats["dropped"] and len(sp.test_users) < ds.n_users   # the corner cases are there
    r = ds.rating[~np.isnan(ds.rating)]
    values, counts = np.unique(r, return_counts=True)
    assert np.array_equal(c.rating_values, values) and np.array_equal(c.rating_counts, counts)
    assert (c.n_interactions, c.n_positives) == (ds.n_interactions, int(pos.sum()))
    from collections import Counter

    from engine.data.aggregates import genre_counts
    assert genre_counts(store, ds.info.id) == Counter(g for gs in ds.genres for g in gs).most_common()


@pytest.mark.parametrize("which", ["holdout", "whole"])
def test_lean_run_matches_whole_dataset_run(runs, which):
    store, holdout, whole = runs
    run_id = holdout if which == "holdout" else whole
    full, lean = load_run(store, run_id), open_explore_run(store, run_id)
    assert lean.dataset.n_interactions == 0 and lean.split is None       # no interaction table held
    assert lean.holdout == (full.split is not None)
    from engine.data.split import item_id_rank
    assert np.array_equal(lean.source.rank, item_id_rank(full.dataset))   # counted in the store process
    for u in range(full.dataset.n_users):
        for w in (False, True):
            a, b = full.history(u, whole=w), lean.history(u, whole=w)
            assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1], equal_nan=True)
        fe, le = full.user_events(u), lean.user_events(u)
        assert sorted(zip(fe[0].tolist(), fe[2].tolist())) == sorted(zip(le[0].tolist(), le[2].tolist()))
    if full.split is not None:
        for u, t in zip(full.split.test_users, full.split.test_items):
            assert np.array_equal(lean.source.user(int(u)).test_items, t)
    assert np.array_equal(full.item_bits(), lean.item_bits())
    assert full.default_user() == lean.default_user()
    assert np.array_equal(lean.source.counts.per_user, np.bincount(full.dataset.user_idx,
                                                                    minlength=full.dataset.n_users))
    for u in [full.default_user(), 0, 7, 55]:
        va, vb = UserRecommendations(full, u), UserRecommendations(lean, u)
        for method, t in (("mmr", 0.0), ("mmr", 0.6), ("dpp", 0.5), ("calibration", 0.7)):
            ra, rb = va.rerank(t, method, 10), vb.rerank(t, method, 10)
            assert [(r.item, r.score, r.explanation) for r in ra.rows] == \
                   [(r.item, r.score, r.explanation) for r in rb.rows]
            assert ra.metrics == rb.metrics or repr(ra.metrics) == repr(rb.metrics)   # NaN-safe
        ta, tb = va.timeline(), vb.timeline()
        assert all(np.array_equal(x, y, equal_nan=True) for x, y in zip(ta, tb))
        assert va.n_interactions() == vb.n_interactions()
        liked = ra.rows[0].item
        va.like(liked), vb.like(liked)
        assert [r.item for r in va.rerank(0.3).rows] == [r.item for r in vb.rerank(0.3).rows]


def test_lean_frontier_matches(runs):
    store, holdout, _ = runs
    full, lean = load_run(store, holdout), open_explore_run(store, holdout)
    a = frontier(full, "mmr", 3, max_users=25, n_candidates=40)   # 90 items: pools stay finite
    b = frontier(lean, "mmr", 3, max_users=25, n_candidates=40)
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in a], \
            [{k: v for k, v in r.items() if k != "seconds"} for r in b]
    assert strip[0] == strip[1] and a[0]["n_users"] == 25


def test_counts_are_counted_once_and_shared(runs, monkeypatch):
    store, holdout, whole = runs
    lean = open_explore_run(store, holdout)
    ds_id, t = lean.dataset.info.id, lean.dataset.positive_threshold
    file = counts_path(store, ds_id, t)
    assert file.exists() and not list(file.parent.glob(".*"))            # no temporary file left

    def no_stream(*a, **k):
        raise AssertionError("counted again")
    monkeypatch.setattr(aggregates, "interaction_blocks", no_stream)
    again = open_explore_run(store, whole)                                # another run, same dataset and threshold
    full = load_run(store, whole)
    assert np.array_equal(again.source.counts.item_counts, np.bincount(
        full.dataset.item_idx[full.dataset.positive_mask()], minlength=full.dataset.n_items))
    c = dataset_counts(store, ds_id, t)                                   # what the Datasets view reads
    assert c.split_stats == time_split(full.dataset).stats
    file.write_bytes(b"damaged")                                          # a damaged file is counted again
    monkeypatch.undo()
    assert np.array_equal(dataset_counts(store, ds_id, t).per_user, c.per_user)


def test_a_cancelled_count_writes_nothing(runs):
    from engine.errors import CancelledError
    from engine.jobs.cancel import CancelToken
    store, _, _ = runs
    ds = load_dataset(store, "lean", with_interactions=False)
    counts_path(store, ds.info.id, ds.positive_threshold).unlink()      # written by the fixture's fits
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        dataset_counts(store, ds.info.id, ds.positive_threshold, cancel=token)
    assert not counts_path(store, ds.info.id, ds.positive_threshold).exists()
    whole = load_dataset(store, "lean")
    with pytest.raises(CancelledError):
        aggregates.keep_loaded_counts(store, whole, cancel=token)
    with pytest.raises(CancelledError):
        fit_baseline(store, "lean", "ease", cancel=token)
    assert not list(counts_path(store, ds.info.id, ds.positive_threshold).parent.iterdir())   # no temporary


def _npz(file) -> dict:
    with np.load(file, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _spy_stream(monkeypatch) -> list:
    calls = []
    real = aggregates.interaction_blocks

    def spy(*a, **k):
        calls.append(a)
        yield from real(*a, **k)
    monkeypatch.setattr(aggregates, "interaction_blocks", spy)
    return calls


def test_training_keeps_the_counts_the_stream_would_write(tmp_path, monkeypatch):
    """A baseline fit (what the app runs after an import) writes the explorer's counts from the loaded
    table, block by block (many blocks here), field for field what the stream writes; the explore open
    after it reads them back and does not stream; a later threshold change of the dataset keeps the run's."""
    from engine.store import repository as repo
    store = open_store(str(tmp_path / "lean.db"), artifacts=tmp_path / "artifacts")
    _write(store)
    monkeypatch.setattr(aggregates, "BLOCK_ROWS", 37)
    calls = _spy_stream(monkeypatch)
    run_id = fit_baseline(store, "lean", "ease")
    ds = load_dataset(store, "lean")
    file = counts_path(store, ds.info.id, 3.5)
    assert file.exists() and not list(file.parent.glob(".*")) and calls == []
    lean = open_explore_run(store, run_id)                      # the first explore open: no stream
    assert calls == [] and lean.source.counts.item_rank is not None
    with store.write_session() as s:                            # the dataset's threshold changes: the
        repo.set_positive_threshold(s, ds.info.id, 4.5)         # run's (3.5) is still the one asked for
    open_explore_run(store, run_id)
    assert calls == [] and not counts_path(store, ds.info.id, 4.5).exists()
    kept = _npz(file)
    file.unlink()
    streamed = dataset_counts(store, ds.info.id, 3.5)            # the stream, for comparison
    assert len(calls) == 1
    again = _npz(file)
    assert sorted(kept) == sorted(again) and len(kept) == 12        # key, sizes, rank, stats, 7 arrays
    for k in kept:
        assert kept[k].dtype == again[k].dtype and np.array_equal(kept[k], again[k]), k
    assert streamed.split_stats == time_split(ds).stats and 0 < streamed.split_stats["dropped"]
    # the new threshold: written by the next training (run_training's data path), without a split
    from engine.runs.training import training_data
    training_data(store, "lean", holdout=False)
    file45 = counts_path(store, ds.info.id, 4.5)
    assert file45.exists() and len(calls) == 1
    kept45 = _npz(file45)
    file45.unlink()
    dataset_counts(store, ds.info.id, 4.5)
    assert len(calls) == 2
    again45 = _npz(file45)
    assert not np.array_equal(kept45["item_positives"], kept["item_positives"])   # another threshold
    for k in kept:
        assert kept45[k].dtype == again45[k].dtype and np.array_equal(kept45[k], again45[k]), k
    assert aggregates.keep_loaded_counts(store, load_dataset(store, "lean")) is False   # present: not again
    shuffled = load_dataset(store, "lean")
    shuffled = shuffled.subset(np.random.default_rng(0).permutation(shuffled.n_interactions))
    file45.unlink()
    assert aggregates.keep_loaded_counts(store, shuffled) is False and not file45.exists()   # not user order
    store.close()
