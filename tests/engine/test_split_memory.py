"""The memory cuts of `llmrec train` (issue 12) change no byte: the time split, the exported examples and
the validation set are compared with the code as it was before (kept here as the reference), on data in
the store's load order (the sort is skipped) and shuffled (it is not); run_training's data step keeps
only the split, not the whole dataset."""
from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

from engine.data.dataset import NO_TIMESTAMP, Dataset
from engine.types import DatasetInfo


# ---- the reference: the code before the change, verbatim but for names -----------------------------
def _ref_time_order(ds, rank):
    return np.lexsort((rank[ds.item_idx], ds.timestamp, ds.user_idx))


def _ref_time_split(ds, min_positives=5, test_fraction=0.2):
    from engine.data.split import item_id_rank
    rank = item_id_rank(ds)
    order = _ref_time_order(ds, rank)
    users, ts, pos = ds.user_idx[order], ds.timestamp[order], ds.positive_mask()[order]
    n_pos = np.bincount(users[pos], minlength=ds.n_users)
    evaluated = n_pos >= min_positives
    n_test = np.where(evaluated, np.maximum(1, np.floor(test_fraction * n_pos + 1e-9)).astype(np.int64), 0)
    pos_idx = np.flatnonzero(pos)
    pos_users = users[pos_idx]
    last = np.searchsorted(pos_users, np.arange(ds.n_users), side="right")
    from_end = last[pos_users] - 1 - np.arange(len(pos_idx))
    is_test = np.zeros(len(order), dtype=bool)
    is_test[pos_idx[from_end < n_test[pos_users]]] = True
    t_c = np.full(ds.n_users, np.iinfo(np.int64).max, dtype=np.int64)
    ev_users = np.flatnonzero(evaluated)
    t_c[ev_users] = ts[pos_idx[last[ev_users] - n_test[ev_users]]]
    keep_train = ~is_test & (ts <= t_c[users])
    train_sel = np.zeros(ds.n_interactions, dtype=bool)
    train_sel[order[keep_train]] = True
    test_order = order[is_test]
    test_u, test_i = ds.user_idx[test_order], ds.item_idx[test_order]
    bounds = np.searchsorted(test_u, ev_users, side="left"), np.searchsorted(test_u, ev_users, side="right")
    return ds.subset(train_sel), ev_users.astype(np.int32), [np.sort(test_i[a:b]).astype(np.int32)
                                                             for a, b in zip(*bounds)]


def _ref_examples(ds):
    from engine.data.split import item_id_rank
    from engine.models.lstm.sequences import rating_feature
    order = _ref_time_order(ds, item_id_rank(ds))
    users = ds.user_idx[order]
    items = ds.item_idx[order].astype(np.int32) + 1
    feats = rating_feature(ds.rating[order], ds.info.rating_min, ds.info.rating_max)
    positive = ds.positive_mask()[order]
    n = len(users)
    first = np.ones(n, bool)
    first[1:] = users[1:] != users[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    pos = np.flatnonzero(positive & ~first)
    back = (pos - start[pos]).astype(np.int32)
    target = items[pos]
    known = np.zeros(ds.n_items + 1, bool)
    known[target] = True
    id_index = np.where(known, np.cumsum(known), 0).astype(np.int32)
    counts = np.bincount(target, minlength=ds.n_items + 1).astype(np.float64)
    log_q = np.log(np.maximum(counts, 1) / max(counts.sum(), 1)).astype(np.float32)
    return dict(items=items, feats=feats, pos=pos.astype(np.int64), back=back, id_index=id_index, log_q=log_q,
                counts=np.bincount(target, minlength=ds.n_items + 1).astype(np.int32))   # examples-v2


# ---- data --------------------------------------------------------------------------------------------
def _dataset(seed: int, *, shuffled: bool, string_ids: bool | None, unrated: bool = False) -> Dataset:
    """Random interactions with many timestamp ties and missing timestamps; with string ids the
    tie-break order ("i10" < "i9") differs from the item index order, with numeric ids ("1000".."961")
    it is the reverse; string_ids=None: zero-padded ids in index order (as the demo's), so unshuffled
    data is in the protocol's order and the sort is skipped."""
    rng = np.random.default_rng(seed)
    n_users, n_items, n = 60, 40, 3000
    u = rng.integers(0, n_users, n)
    i = rng.integers(0, n_items, n)
    keep = np.unique(u * n_items + i, return_index=True)[1]
    u, i = u[keep].astype(np.int32), i[keep].astype(np.int32)
    ts = rng.integers(0, 30, len(u)).astype(np.int64)
    ts[rng.random(len(u)) < 0.05] = NO_TIMESTAMP
    rating = np.full(len(u), np.nan, np.float32) if unrated else rng.integers(1, 6, len(u)).astype(np.float32)
    # the store's load order: (user, timestamp, item index)
    order = rng.permutation(len(u)) if shuffled else np.lexsort((i, ts, u))
    u, i, ts, rating = u[order], i[order], ts[order], rating[order]
    ids = [f"m{k:06d}" if string_ids is None else f"i{k}" if string_ids else str(1000 - k) for k in range(n_items)]
    threshold = None if unrated else 4.0
    info = DatasetInfo(1, "t", n_users, n_items, len(u), 1.0, 5.0, threshold)
    return Dataset(info, np.array([f"u{k}" for k in range(n_users)], dtype=object), np.array(ids, dtype=object),
                   [f"t{k}" for k in range(n_items)], [()] * n_items, [""] * n_items, u, i, rating, ts, threshold)


CASES = [dict(seed=s, shuffled=sh, string_ids=si, unrated=un)
         for s, sh, si, un in [(1, False, False, False), (2, True, False, False), (3, False, True, False),
                               (4, True, True, False), (5, False, False, True), (6, True, True, True),
                               (7, False, None, False), (8, False, None, True), (9, True, None, False)]]
IN_ORDER = [c for c in CASES if c["string_ids"] is None and not c["shuffled"]]


@pytest.fixture(autouse=True)
def sorts(monkeypatch):
    """np.lexsort's calls in engine.data.split (the sort that in-order data skips)."""
    from engine.data import split as split_mod
    calls = []
    real = np.lexsort
    monkeypatch.setattr(split_mod.np, "lexsort", lambda keys: calls.append(1) or real(keys))
    return calls


def _same_dataset(a: Dataset, b: Dataset) -> None:
    for name in ("user_idx", "item_idx", "rating", "timestamp"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), name


@pytest.mark.parametrize("case", CASES)
def test_split_and_validation_split_byte_identical_to_before(case, sorts):
    from engine.data.split import time_split, validation_split
    ds = _dataset(**case)
    sorts.clear()                                    # (the test's own data sorts with np.lexsort too)
    split = time_split(ds)
    _ = split.histories                              # built on first use: what is measured here
    _ = validation_split(split.train).histories
    assert (sorts == []) == (case in IN_ORDER)       # in-order data is never sorted, the rest is
    for got, data in ((time_split(ds), ds), (validation_split(time_split(ds).train), time_split(ds).train)):
        train, users, items = _ref_time_split(data)
        _same_dataset(got.train, train)
        assert got.test_users.tobytes() == users.tobytes() and len(got.test_items) == len(items) > 0
        assert all(a.dtype == b.dtype and a.tobytes() == b.tobytes() for a, b in zip(got.test_items, items))
        ref_hist = _ref_time_order(got.train, __import__("engine.data.split", fromlist=["x"]).item_id_rank(got.train))
        assert got.histories.items.tobytes() == got.train.item_idx[ref_hist].astype(np.int32).tobytes()


@pytest.mark.parametrize("block", [None, 1, 5, 64])
@pytest.mark.parametrize("case", CASES)
def test_exported_examples_byte_identical_to_before(case, block, tmp_path, sorts, monkeypatch):
    """The export is written block by block (users' runs of rows cut across blocks when the block is
    small); the files, and the in-memory arrays, are the old all-at-once export's bytes."""
    from engine.data.split import time_split
    from engine.models.lstm import examples
    from engine.models.lstm.examples import FILES, compute_examples, training_arrays
    if block is not None:
        monkeypatch.setattr(examples, "BLOCK_ROWS", block)
    train = time_split(_dataset(**case)).train
    assert block is None or train.n_interactions > 10 * block
    sorts.clear()
    a = training_arrays(train, tmp_path)
    assert (sorts == []) == (case in IN_ORDER)
    ref = _ref_examples(train)
    mem = compute_examples(train)
    for name in FILES:
        got = np.load(a.folder / f"{name}.npy")
        assert got.dtype == ref[name].dtype and got.tobytes() == ref[name].tobytes(), name
        with open(a.folder / f"{name}.npy", "rb") as f:      # the whole file, header included
            saved = tmp_path / "ref.npy"
            np.save(saved, ref[name])
            assert f.read() == saved.read_bytes(), name
        assert getattr(mem, name).tobytes() == ref[name].tobytes(), name


@pytest.mark.parametrize("fail_after", [0, 3])
def test_a_failed_export_leaves_nothing_under_its_name(fail_after, tmp_path, monkeypatch):
    """A failure (or cancel) part-way through the block writes leaves neither the export's folder nor
    its temporary one; the next call exports in full."""
    from engine.data.split import time_split
    from engine.models.lstm import examples
    from engine.models.lstm.examples import FILES, fingerprint, training_arrays
    monkeypatch.setattr(examples, "BLOCK_ROWS", 4)
    train = time_split(_dataset(**CASES[0])).train
    real, calls = examples._NpyWriter.write, []

    def failing(self, block):
        calls.append(1)
        if len(calls) > fail_after:
            raise KeyboardInterrupt
        real(self, block)

    monkeypatch.setattr(examples._NpyWriter, "write", failing)
    with pytest.raises(KeyboardInterrupt):
        training_arrays(train, tmp_path)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(examples._NpyWriter, "write", real)
    a = training_arrays(train, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [fingerprint(train)]
    ref = _ref_examples(train)
    assert all(np.load(a.folder / f"{n}.npy").tobytes() == ref[n].tobytes() for n in FILES)


@pytest.mark.parametrize("case", CASES[:4] + IN_ORDER)
def test_validation_set_identical_to_before(case):
    from engine.data.split import item_id_rank, time_split, validation_split
    from engine.models.lstm.sequences import window
    from engine.models.lstm.trainer import ValidationSet
    val = validation_split(time_split(_dataset(**case)).train)
    t = val.train
    vs = ValidationSet(t, val.test_users, val.test_items, 5)
    order = _ref_time_order(t, item_id_rank(t))
    u, items, ratings = t.user_idx[order], t.item_idx[order], t.rating[order]
    for k, user in enumerate(val.test_users):
        s, e = np.searchsorted(u, user, "left"), np.searchsorted(u, user, "right")
        h, hr = window(items[s:e], ratings[s:e], 5, t.info.rating_min, t.info.rating_max)
        assert np.array_equal(vs.hist[k], h) and np.array_equal(vs.hist_r[k], hr)
        assert vs.seen[k].tobytes() == items[s:e].tobytes()


def test_sorted_data_skips_the_sort_and_shuffled_data_does_not(sorts):
    from engine.data import split as split_mod
    calls = sorts
    loaded = _dataset(3, shuffled=False, string_ids=True)       # ties broken by id rank, not index
    rank = split_mod.item_id_rank(loaded)
    assert not split_mod.in_time_order(loaded, rank)             # the store's order is not the protocol's here
    numeric = _dataset(1, shuffled=False, string_ids=False)      # ids "1000".."961": rank reverses the index
    assert not split_mod.in_time_order(numeric, split_mod.item_id_rank(numeric))
    ordered = loaded.subset(split_mod.time_order(loaded, rank))  # the protocol's order itself
    calls.clear()
    assert split_mod.in_time_order(ordered, rank)
    assert np.array_equal(split_mod.time_order(ordered, rank), np.arange(ordered.n_interactions))
    assert calls == []
    split_mod.time_order(_dataset(2, shuffled=True, string_ids=False), None)
    assert calls == [1]


def test_in_time_order_checks_across_block_edges(monkeypatch):
    from engine.data import split as split_mod
    monkeypatch.setattr(split_mod, "SORTED_CHECK_ROWS", 7)
    ds = _dataset(4, shuffled=True, string_ids=True)
    rank = split_mod.item_id_rank(ds)
    ordered = ds.subset(split_mod.time_order(ds, rank))
    assert split_mod.in_time_order(ordered, rank)
    for k in range(0, ordered.n_interactions - 1, 5):     # swap any neighbours with different keys: caught
        keys = (ordered.user_idx[k], ordered.timestamp[k], rank[ordered.item_idx[k]])
        nxt = (ordered.user_idx[k + 1], ordered.timestamp[k + 1], rank[ordered.item_idx[k + 1]])
        if keys == nxt:
            continue
        swapped = np.arange(ordered.n_interactions)
        swapped[[k, k + 1]] = swapped[[k + 1, k]]
        assert not split_mod.in_time_order(ordered.subset(swapped), rank), k


def test_training_data_keeps_the_split_not_the_whole_dataset(monkeypatch):
    import engine.runs.training as training_mod
    from engine.data.split import time_split
    from engine.runs.training import training_data
    loaded = []

    def fake_load(store, name):
        ds = _dataset(4, shuffled=True, string_ids=True)
        loaded.append(weakref.ref(ds))
        return ds
    monkeypatch.setattr(training_mod, "load_dataset", fake_load)
    counted = []                                     # the explorer's counts: of the whole table, not TRAIN
    monkeypatch.setattr(training_mod, "keep_loaded_counts",
                        lambda store, ds, **k: counted.append(ds.n_interactions))
    ds, split = training_data(None, "t", holdout=True)
    assert counted == [split.train.n_interactions + split.stats["test_positives"] + split.stats["dropped"]]
    gc.collect()
    assert loaded[0]() is None                       # the whole interaction table is gone
    assert ds is split.train and ds.info.name == "t" and ds.positive_threshold == 4.0
    _same_dataset(split.train, time_split(_dataset(4, shuffled=True, string_ids=True)).train)
    whole, none = training_data(None, "t", holdout=False)
    assert none is None and whole.n_interactions == _dataset(4, shuffled=True, string_ids=True).n_interactions


def test_validation_metrics_identical_to_before(monkeypatch):
    """ValidationSet.sums partitions 64 rows at a time on negated-in-place scores: the same sums."""
    from engine.data.split import time_split, validation_split
    from engine.models.lstm import trainer
    from engine.models.lstm.sequences import user_inputs
    from engine.models.lstm.trainer import ValidationSet
    monkeypatch.setattr(trainer, "PARTITION_ROWS", 16)

    class Tower:                                   # a stand-in user tower: the mean of the history's rows
        def encode(self, seq, mask):
            return (seq[..., :8] * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1)

    val = validation_split(time_split(_dataset(9, shuffled=True, string_ids=None)).train)
    vs = ValidationSet(val.train, val.test_users, val.test_items, 5)
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(val.train.n_items, 8)).astype(np.float32)
    matrix[3] = matrix[4]                          # ties
    k, disc = 10, 1.0 / np.log2(np.arange(2, 12))
    rec_ref, ndcg_ref = [], []
    for s in range(0, len(vs.hist), 40):           # the previous code (40 rows: two partition blocks and a bit)
        e = min(s + 40, len(vs.hist))
        seq, mask = user_inputs(matrix, vs.hist[s:e], vs.hist_r[s:e])
        scores = Tower().encode(seq, mask) @ matrix.T
        for j in range(len(scores)):
            scores[j, vs.seen[s + j]] = -np.inf
        top = np.argpartition(-scores, k, axis=1)[:, :k]
        top = np.take_along_axis(top, np.argsort(-np.take_along_axis(scores, top, 1), 1), 1)
        for j in range(len(top)):
            t = vs.targets[s + j]
            hits = np.isin(top[j], t)
            rec_ref.append(hits.sum() / len(t))
            ndcg_ref.append((hits * disc).sum() / disc[:min(k, len(t))].sum())
    got = vs.sums(matrix, Tower(), k, batch=40)
    assert got == (float(np.sum(rec_ref)), float(np.sum(ndcg_ref)), len(rec_ref)) and got[2] > 40


def test_genre_ild_in_blocks_equals_all_rows_at_once(monkeypatch):
    """list_metrics computes the genre ILD block by block (memory): the same values as all rows at once."""
    import engine.evaluation.protocol as ev
    from engine.evaluation import metrics as M
    rng = np.random.default_rng(1)
    gv = (rng.random((300, 7)) < 0.3).astype(np.float32)
    gv[:20] = 0                                                # items without genres: NaN rows
    lists = rng.integers(0, 300, (1000, 20))
    lists[:5] = rng.integers(0, 20, (5, 20))
    whole = M.ild_rows(lists, gv)
    monkeypatch.setattr(ev, "ILD_ROWS", 64)
    blocks = ev._ild_model_rows(lists, gv, ev.ILD_ROWS)
    assert np.isnan(whole[:5]).all() and whole.tobytes() == blocks.tobytes()
