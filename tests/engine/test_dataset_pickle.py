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
    from engine.storage import open_store
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
