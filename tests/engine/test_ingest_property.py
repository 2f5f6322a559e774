"""Property-based: random valid files import exactly (latest event per (user, item)); random and
corrupted files give a clean InputError with the right line, or a correct import; never a crash and
never a partial write."""
from __future__ import annotations

import csv
import io
import itertools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.data.dataset import load_dataset
from engine.errors import EngineError, InputError
from engine.ingest import import_files
from tests.conftest import db_dump as dump

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
_names = itertools.count()

ID_CHARS = st.sampled_from("abcxyz0123456789-_.éßЖ中")


def ids(extra: str = "") -> st.SearchStrategy[str]:
    alphabet = ID_CHARS if not extra else st.one_of(ID_CHARS, st.sampled_from(extra))
    return st.text(alphabet, min_size=1, max_size=6).filter(lambda s: s.strip() == s)


@st.composite
def datasets(draw):
    delim = draw(st.sampled_from([",", "\t", "|", "::", ";"]))
    extra = {",": ',"', "\t": '"', "|": "", "::": "", ";": '"'}[delim]
    users = draw(st.lists(ids(extra), min_size=1, max_size=6, unique=True))
    items = draw(st.lists(ids(extra), min_size=1, max_size=6, unique=True))
    n = draw(st.integers(1, 40))
    rows = [(draw(st.sampled_from(users)), draw(st.sampled_from(items)),
             draw(st.sampled_from([0.5, 1, 2, 3.5, 4, 5])), draw(st.integers(0, 2_000_000_000)))
            for _ in range(n)]
    return delim, rows, draw(st.booleans()), draw(st.sampled_from(["utf-8", "utf-8-sig"]))


def render(delim: str, rows, crlf: bool, header=("user", "item", "rating", "timestamp")) -> str:
    end = "\r\n" if crlf else "\n"
    if delim == "::":
        return end.join(delim.join(map(str, r)) for r in [header, *rows]) + end
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delim, lineterminator=end)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


@SETTINGS
@given(datasets())
def test_random_valid_files_import_exactly(store, tmp_path, data):
    delim, rows, crlf, enc = data
    path = tmp_path / f"r{next(_names)}.txt"
    path.write_bytes(render(delim, rows, crlf).encode(enc))
    s = import_files(store, [path])
    latest: dict = {}
    for u, i, r, t in rows:          # the latest timestamp wins; on a tie the later row
        if (u, i) not in latest or t >= latest[(u, i)][1]:
            latest[(u, i)] = (float(r), t)
    assert s.n_interactions == len(latest) and s.duplicates == len(rows) - len(latest)
    ds = load_dataset(store, s.dataset_id)
    got = {(ds.user_ids[u], ds.item_ids[i]): (float(r), int(t))
           for u, i, r, t in zip(ds.user_idx, ds.item_idx, ds.rating, ds.timestamp)}
    assert got == latest
    assert list(ds.user_ids) == list(dict.fromkeys(u for u, *_ in rows if any(k[0] == u for k in latest)))


@SETTINGS
@given(datasets(), st.data())
def test_one_corrupted_row_is_reported_at_its_line(store, tmp_path, data, draw):
    delim, rows, crlf, enc = data
    bad = draw.draw(st.integers(0, len(rows) - 1))
    kind = draw.draw(st.sampled_from(["rating", "ragged", "timestamp"]))
    rows = [list(r) for r in rows]
    if kind == "rating":
        rows[bad][2] = "x4"
    elif kind == "timestamp":
        rows[bad][3] = "soon"
    else:
        rows[bad] = rows[bad][:2]
    path = tmp_path / f"c{next(_names)}.txt"
    path.write_bytes(render(delim, rows, crlf).encode(enc))
    before = dump(store)
    try:
        import_files(store, [path])
    except InputError as err:
        assert err.path == str(path)
        assert err.line == bad + 2, (kind, str(err))    # +1 header, +1 one-based
    else:
        raise AssertionError("a corrupted file was imported")
    assert dump(store) == before


@SETTINGS
@given(st.one_of(
    st.binary(max_size=400),
    st.text(st.sampled_from('ab1,;|:\t"\n\r é-'), max_size=400),
    st.lists(st.lists(st.text(st.sampled_from("ab12.,-: "), max_size=5), min_size=0, max_size=5),
             max_size=15).map(lambda rs: "\n".join(",".join(r) for r in rs)),
))
def test_random_input_gives_a_clean_error_or_a_correct_import(store, tmp_path, blob):
    path = tmp_path / f"g{next(_names)}.csv"
    path.write_bytes(blob if isinstance(blob, bytes) else blob.encode())
    before = dump(store)
    try:
        s = import_files(store, [path])
    except EngineError as err:
        assert str(err)
        assert dump(store) == before
        return
    ds = load_dataset(store, s.dataset_id)
    assert ds.n_interactions == s.n_interactions > 0
    assert (ds.n_users, ds.n_items) == (s.n_users, s.n_items)
    assert len(set(zip(ds.user_idx.tolist(), ds.item_idx.tolist()))) == ds.n_interactions
    assert ds.user_idx.max() < ds.n_users and ds.item_idx.max() < ds.n_items
    assert np.isnan(ds.rating).all() or np.isfinite(ds.rating).all()
