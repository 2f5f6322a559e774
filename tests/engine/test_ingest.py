"""Import of every supported format from small files in tests/data: counts, ids kept as text, item text,
rating scales, repeated events, gzip, encodings, progress, dry run."""
from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from engine.data.dataset import load_dataset
from engine.ingest import Exclude, Mapping, detect_format, import_files, preview
from engine.jobs.cancel import CancelToken
from engine.store import repository as repo
from tests.conftest import db_dump

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def store(any_store):
    """Every import test runs on an SQLite file and on PostgreSQL (COPY instead of the upsert)."""
    return any_store


def items_by_id(ds):
    return {ds.item_ids[k]: (ds.titles[k], ds.genres[k], ds.descriptions[k]) for k in range(ds.n_items)}


def test_movielens_100k_with_latin1_titles_and_genre_flags(store):
    det = detect_format([DATA / "ml-100k" / "u.data"])   # u.item is found beside it
    assert det.name == "movielens-100k" and det.items is not None and det.items.encoding == "latin-1"
    s = import_files(store, [DATA / "ml-100k"])
    assert (s.n_users, s.n_items, s.n_interactions) == (5, 6, 10)
    assert (s.rating_min, s.rating_max, s.positive_threshold) == (1, 5, 4)
    ds = load_dataset(store, s.dataset_id)
    items = items_by_id(ds)
    assert items["4"][0] == "Café au lait (1994)"
    assert items["1"][1] == ("Animation", "Children's", "Comedy")
    assert items["6"][1] == ("Crime", "Thriller")
    assert set(ds.user_ids) == {"196", "186", "22", "244", "166"}
    assert ds.info.name == "ml-100k"


def test_movielens_1m_collapses_repeated_events_to_the_latest(store):
    det = detect_format([DATA / "ml-1m"])
    assert det.name == "movielens" and det.delimiter == "::" and not det.has_header
    s = import_files(store, [DATA / "ml-1m" / "ratings.dat", DATA / "ml-1m" / "movies.dat"], name="ml1m")
    assert (s.n_users, s.n_items, s.n_interactions, s.duplicates) == (3, 4, 7, 1)
    assert (s.rating_min, s.rating_max, s.positive_threshold) == (1, 5, 4)
    ds = load_dataset(store, "ml1m")
    u1 = list(ds.user_ids).index("1")
    i1 = list(ds.item_ids).index("1")
    sel = (ds.user_idx == u1) & (ds.item_idx == i1)
    # two events for (1, 1): 5 at 978300760 and 2 at 978300000 (earlier, later in the file): the latest wins
    assert ds.rating[sel].tolist() == [5.0] and ds.timestamp[sel].tolist() == [978300760]
    assert items_by_id(ds)["2"][1] == ("Adventure", "Children's", "Fantasy")
    with store.session() as sess:
        assert repo.get_dataset(sess, "ml1m").import_report["duplicates"] == 1


def test_movielens_latest_csv_with_tags_folded_into_description(store):
    det = detect_format([DATA / "ml-latest" / "ratings.csv"])
    assert det.name == "movielens" and det.has_header and det.tags is not None
    s = import_files(store, [DATA / "ml-latest"])
    assert (s.n_users, s.n_items, s.n_interactions) == (3, 4, 5)
    assert (s.rating_min, s.rating_max, s.positive_threshold) == (0.5, 5, 4)
    items = items_by_id(load_dataset(store, s.dataset_id))
    assert items["3"][0] == "American President, The (1995)"
    assert items["4"][1] == ()                          # "(no genres listed)"
    assert items["1"][2] == "tags: pixar, fun"           # case-folded, most frequent first
    assert items["2"][2] == "tags: board game"


def test_movietweetings_keeps_leading_zeros_and_0_10_scale(store):
    det = detect_format([DATA / "tweetings"])
    assert det.name == "movietweetings"
    s = import_files(store, [DATA / "tweetings"], name="mt")
    assert (s.n_users, s.n_items, s.n_interactions) == (3, 4, 5)
    assert (s.rating_min, s.rating_max, s.positive_threshold) == (0, 10, 8)
    ds = load_dataset(store, "mt")
    items = items_by_id(ds)
    assert "0002844" in items and items["0002844"][0].startswith("Fantômas - À")
    assert items["1853728"][1] == ()
    assert sorted(ds.rating.tolist()) == [0, 7, 8, 9, 10]


def test_generic_retail_with_mapping_skips_and_counts(store):
    m = {"user": "CustomerID", "item": "StockCode", "title": "Description", "timestamp": "InvoiceDate",
         "skip_missing_user": True, "exclude": (Exclude("InvoiceNo", "prefix", "C", "cancellation"),)}
    s = import_files(store, [DATA / "generic" / "retail.csv"], name="retail", mapping=m)
    assert s.skipped == {"missing user": 1, "cancellation": 1}
    assert (s.n_users, s.n_items, s.n_interactions, s.duplicates) == (2, 2, 3, 1)
    assert s.rating_min is None and s.positive_threshold is None
    ds = load_dataset(store, "retail")
    assert ds.info.is_implicit and np.isnan(ds.rating).all() and ds.positive_mask().all()
    items = items_by_id(ds)
    assert items["71053"][0] == "LANTERN, WHITE METAL" and items["85123A"][2] == ""
    u = list(ds.user_ids).index("17850")
    i = list(ds.item_ids).index("71053")
    t = ds.timestamp[(ds.user_idx == u) & (ds.item_idx == i)]
    assert t.tolist() == [1291374000]                  # 2010-12-03T11:00:00 UTC, the latest purchase


def test_generic_usual_names_need_no_mapping_bom_tab_iso_and_item_file(store):
    det = detect_format([DATA / "generic" / "events.tsv", DATA / "generic" / "items.csv"])
    assert det.name == "csv" and det.delimiter == "\t" and det.encoding == "utf-8-sig"
    assert (det.mapping.user, det.mapping.item, det.mapping.rating, det.mapping.timestamp) == (
        "user_id", "item_id", "rating", "timestamp")
    assert det.mapping.item_id == "item_id" and det.mapping.description == "description"
    s = import_files(store, [DATA / "generic" / "events.tsv", DATA / "generic" / "items.csv"], name="ev")
    assert (s.n_users, s.n_items, s.n_interactions) == (2, 3, 4)
    ds = load_dataset(store, "ev")
    assert list(ds.user_ids) == ["u1", "u2"]           # no BOM glued to the first id
    items = items_by_id(ds)
    assert items["i1"] == ("First", ("Drama", "Comedy"), "A first item")
    assert items["i3"][2] == "Scary, very"
    assert ds.timestamp.min() == 1577836800           # 2020-01-01 UTC


def test_gzip_files_are_read_directly(store, tmp_path):
    src = (DATA / "tweetings" / "ratings.dat").read_bytes()
    (tmp_path / "ratings.dat.gz").write_bytes(gzip.compress(src))
    shutil.copy(DATA / "tweetings" / "movies.dat", tmp_path / "movies.dat")
    det = detect_format([tmp_path / "ratings.dat.gz"])
    assert det.name == "movietweetings" and det.interactions.compressed and det.items is not None
    s = import_files(store, [tmp_path / "ratings.dat.gz"], name="gz")
    assert s.n_interactions == 5 and s.n_items == 4


def test_no_item_file_creates_items_with_id_as_title_and_headerless_defaults(store, tmp_path):
    f = tmp_path / "plain.csv"
    f.write_text("10,a,1.5\n10,b,2\n11,a,5\n")
    det = detect_format([f])
    assert not det.has_header and (det.mapping.user, det.mapping.item, det.mapping.rating) == (0, 1, 2)
    s = import_files(store, [f])
    assert s.name == "plain" and (s.n_users, s.n_items, s.n_interactions) == (2, 2, 3)
    assert (s.rating_min, s.rating_max, s.positive_threshold) == (1, 5, 4)
    ds = load_dataset(store, "plain")
    assert ds.titles == ["a", "b"] and (ds.timestamp == np.iinfo(np.int64).min).all()


@pytest.mark.parametrize("delim", [",", "\t", "|", "::", " ", ";"])
def test_delimiters_are_sniffed(tmp_path, store, delim):
    f = tmp_path / "d.txt"
    sep = "   " if delim == " " else delim
    f.write_text("".join(f"{u}{sep}{i}{sep}{r}{sep}{1000 + u}\n" for u, i, r in
                         [(1, 7, 4), (1, 8, 2), (2, 7, 5), (3, 9, 1)]))
    det = detect_format([f])
    assert det.delimiter == delim
    s = import_files(store, [f], name=f"d{ord(delim[0])}")
    assert (s.n_users, s.n_items, s.n_interactions) == (3, 3, 4)


def test_latin1_interactions_file_fallback(store, tmp_path):
    f = tmp_path / "l1.csv"
    f.write_bytes("user,item\nJosé,x\nJürgen,y\n".encode("latin-1"))
    assert detect_format([f]).encoding == "latin-1"
    s = import_files(store, [f], name="l1")
    ds = load_dataset(store, "l1")
    assert s.rating_min is None and list(ds.user_ids) == ["José", "Jürgen"]


def test_large_file_streams_in_chunks_with_progress_and_fast_path(store, tmp_path, monkeypatch):
    import engine.ingest.staging as staging
    monkeypatch.setattr(staging, "CHUNK_BYTES", 256)     # many chunks from a small file
    f = tmp_path / "big.csv"
    rows = [(u, (u * 7 + k) % 50, 1 + (u + k) % 5, 1_600_000_000 + u * 100 + k) for u in range(40) for k in range(10)]
    f.write_text("user,item,rating,timestamp\n" + "".join(f"{u},{i},{r},{t}\n" for u, i, r, t in rows))
    seen = []
    s = import_files(store, [f], progress=seen.append)
    inter = [u for u in seen if u.stage == "interactions"]
    assert len(inter) > 10 and inter[-1].bytes_read == inter[-1].bytes_total == f.stat().st_size
    assert [u.rows for u in inter] == sorted(u.rows for u in inter) and inter[-1].rows == 400
    assert seen[-1].stage == "done"
    assert s.n_interactions == len({(u, i) for u, i, _, _ in rows})
    ds = load_dataset(store, s.dataset_id)
    got = {(int(ds.user_ids[u]), int(ds.item_ids[i])): int(t) for u, i, t in zip(ds.user_idx, ds.item_idx, ds.timestamp)}
    want: dict = {}
    for u, i, _, t in rows:
        want[(u, i)] = max(t, want.get((u, i), t))
    assert got == want


def test_quoted_newline_and_crlf_take_the_exact_path(store, tmp_path):
    f = tmp_path / "q.csv"
    f.write_bytes(b'user,item,title\r\n1,a,"two\r\nlines"\r\n2,b,plain\r\n\r\n3,a,x\r\n')
    s = import_files(store, [f], mapping={"title": "title"})
    assert (s.n_users, s.n_items, s.n_interactions) == (3, 2, 3)
    ds = load_dataset(store, s.dataset_id)
    assert ds.titles[0] == "two\r\nlines"


def test_dry_run_validates_everything_and_writes_nothing(store):
    before = db_dump(store)
    s = import_files(store, [DATA / "ml-1m"], dry_run=True)
    assert s.dry_run and s.dataset_id is None and s.n_interactions == 7
    assert db_dump(store) == before


def test_mapping_object_and_scale_overrides(store):
    det = detect_format([DATA / "ml-1m"])
    m = Mapping(**{**det.mapping.to_dict(), "positive_threshold": 5.0, "exclude": ()})
    s = import_files(store, [DATA / "ml-1m"], mapping=m, name="strict")
    assert s.positive_threshold == 5.0


def test_preview_and_sniff_for_the_wizard():
    p = preview(DATA / "generic" / "retail.csv", n=3)
    assert p.has_header and p.columns[:3] == ("InvoiceNo", "StockCode", "Description")
    assert p.rows[1][2] == "LANTERN, WHITE METAL" and len(p.rows) == 3
    p = preview(DATA / "ml-100k" / "u.data", n=2)
    assert not p.has_header and p.delimiter == "\t" and p.rows == [["196", "1", "3", "881250949"],
                                                                  ["196", "2", "4", "881250950"]]


def test_cancel_before_start_writes_nothing(store):
    token = CancelToken()
    token.cancel()
    from engine.errors import CancelledError
    before = db_dump(store)
    with pytest.raises(CancelledError):
        import_files(store, [DATA / "ml-100k"], cancel=token)
    assert db_dump(store) == before


def test_dry_run_of_an_existing_name_reports_under_that_name(store):
    import_files(store, [DATA / "ml-1m"], name="same")
    before = db_dump(store)
    s = import_files(store, [DATA / "ml-1m"], name="same", dry_run=True)
    assert s.name == "same" and s.dataset_id is None and s.n_interactions == 7
    assert db_dump(store) == before


def test_retail_like_headers_get_a_suggested_mapping(store):
    det = detect_format([DATA / "generic" / "retail.csv"])
    m = det.mapping
    assert (m.user, m.item, m.rating, m.timestamp, m.description) == (
        "CustomerID", "StockCode", None, "InvoiceDate", "Description")
    assert det.rating_min is None and det.notes
    from engine.errors import InputError
    with pytest.raises(InputError, match="empty user id") as info:
        import_files(store, [DATA / "generic" / "retail.csv"])
    assert (info.value.line, info.value.column) == (4, "CustomerID")


def test_memory_does_not_grow_with_the_file(store, tmp_path, monkeypatch):
    """Peak Python allocations while importing 4x the rows (same users and items) stay about the same:
    rows are streamed in chunks, never held all at once."""
    import tracemalloc

    import engine.ingest.staging as staging
    monkeypatch.setattr(staging, "CHUNK_BYTES", 1 << 14)

    def peak(n: int) -> int:
        f = tmp_path / f"m{n}.csv"
        f.write_text("user,item,rating,timestamp\n" + "".join(
            f"{k % 300},{(k * 7) % 200},{1 + k % 5},{k}\n" for k in range(n)))
        tracemalloc.start()
        try:
            import_files(store, [f], name=f"m{n}")
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(8_000), peak(32_000)
    assert large < 1.5 * small, (small, large)


def test_lookalike_files_fall_back_to_generic(store, tmp_path):
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating\n1,2,9\n2,2,7\n")
    det = detect_format([tmp_path / "ratings.csv"])
    assert det.name == "csv" and (det.rating_min, det.rating_max, det.positive_threshold) == (1, 10, 8)
    (tmp_path / "log.dat").write_text("a\tb\nc\td\n")
    det = detect_format([tmp_path / "log.dat"])
    assert det.name == "csv" and det.delimiter == "\t"
