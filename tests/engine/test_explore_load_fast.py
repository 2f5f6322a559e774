"""The explore open's faster paths give what the per-row code gave: ids pickled NUL-joined (unicode, empty,
NUL-holding and non-str ids included), genre codes grouped by object identity, titles and descriptions read
as SQLite's UTF-8 bytes."""
from __future__ import annotations

import pickle

import numpy as np

from engine.data.dataset import Dataset, _item_columns, _pack_strings, _unpack_strings, load_dataset, write_dataset
from engine.data.grouped_rows import distinct_codes
from engine.types import DatasetInfo

EMPTY = tuple(np.zeros(0, t) for t in (np.int32, np.int32, np.float32, np.int64))


def _round_trip(user_ids, item_ids):
    info = DatasetInfo(1, "x", len(user_ids), len(item_ids), 0, None, None, None)
    d = Dataset(info, np.array(user_ids, dtype=object), np.array(item_ids, dtype=object), [""] * len(item_ids),
                [()] * len(item_ids), [""] * len(item_ids), *EMPTY)
    return pickle.loads(pickle.dumps(d))


def test_ids_round_trip_exactly_whatever_they_hold():
    cases = [["u", "ü", "", "東京", " a b "], [""], ["", ""], ["a\0b", "c", ""], ["\0"], [],
             ["x", np.str_("y")], [1, "a"]]
    for ids in cases:
        back = _round_trip(ids, ids)
        for got in (back.user_ids, back.item_ids):
            assert got.dtype == object and len(got) == len(ids)
            assert [(type(v), v) for v in got] == [(type(v), v) for v in ids], ids


def test_packing_uses_the_split_form_only_without_nul():
    assert _pack_strings(["a", "", "ü"])[0] == "__split__"
    assert _pack_strings(["a\0", "b"])[0] == "__packed__"
    assert _unpack_strings(_pack_strings(["a\0", "", "b"])) == ["a\0", "", "b"]
    assert _pack_strings(["a", np.str_("b")]) == ["a", np.str_("b")]       # not all plain str: as they are


def _reference(values, key=tuple):
    seen: dict = {}
    codes = [seen.setdefault(key(v), len(seen)) for v in values]
    return list(seen), codes


def test_distinct_codes_match_a_dict_over_the_values():
    a, b = ("A", "B"), ("C",)
    rng = np.random.default_rng(0)
    pool = [a, b, (), tuple(["A", "B"]), ("C",), ["A", "B"], ("Z",)]       # equal sets as distinct objects too
    values = [pool[i] for i in rng.integers(0, len(pool), 500)]
    names, codes = distinct_codes(values)
    want_names, want_codes = _reference(values)
    assert names == want_names and codes.tolist() == want_codes and codes.dtype == np.int32
    names, codes = distinct_codes([v for v in values if isinstance(v, tuple)], key=lambda g: g)
    want = _reference([v for v in values if isinstance(v, tuple)], key=lambda g: g)
    assert names == want[0] and codes.tolist() == want[1]
    assert names[0] is next(v for v in values if isinstance(v, tuple))      # the first object is kept
    assert distinct_codes([])[0] == [] and len(distinct_codes([])[1]) == 0


def test_loaded_items_read_as_bytes_equal_the_decoded_read(tmp_path):
    from engine.store import open_store
    store = open_store(str(tmp_path / "b.db"))
    ids = ["i0", "ü1", "東2", "i3", "i4"]
    try:
        write_dataset(store, "b", user_ids=["", "ü", "東"], item_ids=ids,
                      titles=["Amélie", None, "", "東京物語", "x"], genres=[("A",), (), ("A", "B"), ("B",), ()],
                      descriptions=["d", None, "ü" * 40, "", "e"], user_idx=np.zeros(2, np.int32),
                      item_idx=np.array([0, 3], np.int32), rating=None, timestamp=None, rating_min=None,
                      rating_max=None, positive_threshold=None, source={})
        with store.engine.begin() as conn:           # genre strings the ingest does not write, as stored ones may be
            conn.exec_driver_sql("UPDATE items SET genres=NULL WHERE idx=1")
            conn.exec_driver_sql("UPDATE items SET genres='|A||B|' WHERE idx=4")
        ds = load_dataset(store, "b", with_interactions=False)
        with store.engine.connect() as conn:
            cur = conn.connection.driver_connection.cursor()
            q = "SELECT external_id, {0}title{1}, genres, {0}description{1} FROM items WHERE dataset_id=? ORDER BY idx"
            raw = _item_columns(cur.execute(q.format("CAST(", " AS BLOB)"), (ds.info.id,)), True, True)
            decoded = _item_columns(cur.execute(q.format("", ""), (ds.info.id,)), True, False)
            cur.close()
    finally:
        store.close()
    assert list(ds.user_ids) == ["", "ü", "東"] and list(ds.item_ids) == ids
    assert list(ds.titles) == ["Amélie", "ü1", "東2", "東京物語", "x"]
    assert list(ds.descriptions) == ["d", "", "ü" * 40, "", "e"]
    assert ds.genres == [("A",), (), ("A", "B"), ("B",), ("A", "B")] and ds.genres[1] is ds.genres[0][:0]
    assert raw[0] == decoded[0] and raw[2] == decoded[2] and raw[1] == decoded[1] and raw[3] == decoded[3]
    assert raw[1]._buf == decoded[1]._buf and np.array_equal(raw[1]._ends, decoded[1]._ends)


def test_a_damaged_utf8_text_reads_with_a_replacement_character_not_an_error():
    """Texts are packed from SQLite's bytes unchecked: one bad byte must not break a view that lists them."""
    from engine.data.packed_strings import PackedStringsBuilder
    b = PackedStringsBuilder()
    b.extend_encoded([b"Am\xc3\xa9lie", b"bad \xff byte", b""])
    ps = b.build()
    assert ps[0] == "Amélie" and ps[1] == "bad \ufffd byte" and ps[2] == ""
    assert list(ps) == ["Amélie", "bad \ufffd byte", ""]
