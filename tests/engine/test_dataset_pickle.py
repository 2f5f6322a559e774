"""A Dataset pickles compactly (one joined string per text column, genre sets by distinct value: what
the store process sends the app) and comes back equal, shared genre tuples included."""
from __future__ import annotations

import pickle

import numpy as np

from engine.data.dataset import Dataset
from engine.types import DatasetInfo


def test_dataset_round_trips_through_pickle_compactly():
    info = DatasetInfo(1, "x", 2, 3, 4, None, None, None)
    g = ("Drama", "War")
    d = Dataset(info, np.array(["u1", "ü2"], dtype=object), np.array(["i1", "i2", "i3"], dtype=object),
                ["T1", "", "Té 3"], [g, (), tuple(g)], ["d", "", "x|y"], np.arange(4, dtype=np.int32),
                np.arange(4, dtype=np.int32), np.ones(4, np.float32), np.arange(4, dtype=np.int64), 3.0)
    blob = pickle.dumps(d)
    e = pickle.loads(blob)
    assert e.titles == d.titles and e.descriptions == d.descriptions and e.genres == d.genres
    assert e.genres[0] is e.genres[2]                                   # one tuple per distinct set
    assert e.item_ids.dtype == object and list(e.item_ids) == list(d.item_ids) and list(e.user_ids) == ["u1", "ü2"]
    assert np.array_equal(e.user_idx, d.user_idx) and e.positive_threshold == 3.0
    assert d.titles == ["T1", "", "Té 3"] and isinstance(d.genres, list)  # the original is untouched
    many = Dataset(info, np.array([f"u{i}" for i in range(200)], dtype=object),
                   np.array([f"item-{i}" for i in range(20000)], dtype=object), [f"Title {i}" for i in range(20000)],
                   [g] * 20000, [""] * 20000, *(np.zeros(0, t) for t in (np.int32, np.int32, np.float32, np.int64)))
    back = pickle.loads(pickle.dumps(many))
    assert back.titles[12345] == "Title 12345" and back.item_ids[19999] == "item-19999" and back.genres[7] is back.genres[8]


def test_load_dataset_without_text_keeps_everything_counts_need(tmp_path):
    from engine.data.dataset import load_dataset
    from engine.data.demo import DEMO_NAME, create_demo_dataset
    from engine.store import open_store
    store = open_store(str(tmp_path / "d.db"))
    try:
        create_demo_dataset(store, n_items=120, n_users=60)
        full, light = load_dataset(store, DEMO_NAME), load_dataset(store, DEMO_NAME, with_text=False)
        assert light.genres == full.genres and list(light.item_ids) == list(full.item_ids)
        assert np.array_equal(light.item_idx, full.item_idx) and np.array_equal(light.timestamp, full.timestamp)
        assert set(light.titles) == {""} and set(light.descriptions) == {""} and len(light.titles) == full.n_items
        assert any(full.titles) and any(full.descriptions)
    finally:
        store.close()


def test_loaded_titles_and_descriptions_are_packed_and_read_as_the_written_strings(tmp_path):
    """load_dataset keeps titles and descriptions as one UTF-8 buffer plus offsets (PackedStrings):
    indexing, slices, index arrays, iteration, item_text and the pickle the store process sends give
    the strings that were written (non-ASCII, empty and missing ones included)."""
    from engine.data.dataset import load_dataset, write_dataset
    from engine.data.packed_strings import PackedStrings
    from engine.store import open_store
    store = open_store(str(tmp_path / "p.db"))
    titles = ["Amélie", None, "", "東京物語", "Plain"]
    descs = ["d0", None, "ü" * 300, "", "last"]
    try:
        write_dataset(store, "p", user_ids=["u0"], item_ids=[f"i{k}" for k in range(5)], titles=titles,
                      genres=[("A",), (), ("A", "B"), ("B",), ()], descriptions=descs,
                      user_idx=np.zeros(2, np.int32), item_idx=np.array([0, 3], np.int32), rating=None,
                      timestamp=None, rating_min=None, rating_max=None, positive_threshold=None, source={})
        ds = load_dataset(store, "p")
    finally:
        store.close()
    want_t = ["Amélie", "i1", "i2", "東京物語", "Plain"]          # a missing or empty title reads as the id
    want_d = ["d0", "", "ü" * 300, "", "last"]
    assert isinstance(ds.titles, PackedStrings) and isinstance(ds.descriptions, PackedStrings)
    assert list(ds.titles) == want_t and list(ds.descriptions) == want_d and ds.titles == want_t
    assert ds.titles[3] == "東京物語" and ds.titles[np.int64(-1)] == "Plain" and ds.titles[1:3] == want_t[1:3]
    assert ds.titles[np.array([4, 0])] == ["Plain", "Amélie"] and len(ds.titles) == 5
    assert ds.item_text(2) == " | ".join(["i2", "A B", "ü" * 300])
    back = pickle.loads(pickle.dumps(ds))
    assert back.titles == ds.titles and list(back.descriptions) == want_d and back.genres == ds.genres
    import pytest
    with pytest.raises(IndexError):
        ds.titles[5]
