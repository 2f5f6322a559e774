"""Hostile input files (issue 8, section 3): linear time and bounded memory whatever the file holds,
and the same clear refusal wherever in the file the problem is."""
from __future__ import annotations

import gzip
import time
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.ingest import textio
from engine.ingest.importer import import_files

HEADER = "userId,movieId,rating,timestamp\n"


def _rows(n: int, start: int = 0) -> str:
    return "".join(f"{u % 97 + 1},{u % 89 + 1},{1 + u % 5},{1000 + u}\n" for u in range(start, start + n))


def test_unbalanced_quote_fails_fast_naming_the_opening_line(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text(HEADER + _rows(5) + '7,"8,3,1005\n' + _rows(60_000, 10))   # ~1.3 MB, quote on line 7
    cpu = time.process_time()
    with open(path, "rb"), textio.open_source(path) as src:
        with pytest.raises(InputError, match="quoted field") as err:
            for _ in textio.iter_chunks(src, chunk_bytes=1024, quote_aware=True):
                pass
    # CPU time of the work (not wall time): linear is milliseconds; the old re-count was quadratic
    # (hours for this file with 1 KB chunks)
    assert time.process_time() - cpu < 20
    assert err.value.line == 7 and str(path) in str(err.value)


def test_unbalanced_quote_in_an_import_names_file_and_line(store, tmp_path):
    path = tmp_path / "q.csv"
    path.write_text(HEADER + _rows(3) + '7,"8,3,1005\n' + _rows(50, 10))
    with pytest.raises(InputError) as err:
        import_files(store, [str(path)], name="q", dry_run=True)
    assert err.value.line == 5 and "quoted field" in str(err.value)


def test_a_line_without_end_is_refused_with_bounded_memory(tmp_path):
    path = tmp_path / "one-line.csv.gz"
    with gzip.open(path, "wb") as f:                    # 24 MB of one line, a few KB on disk
        f.write(HEADER.encode())
        chunk = b"1" * (1 << 20)
        for _ in range(24):
            f.write(chunk)
    with textio.open_source(path) as src:
        with pytest.raises(InputError, match="longer than") as err:
            for _ in textio.iter_chunks(src, chunk_bytes=1 << 16):
                pass
    assert err.value.line == 2


@pytest.mark.parametrize("where", [10, 9000])   # in the sniffed first 64 KB, and far after it
def test_a_nul_byte_is_refused_wherever_it_is(store, tmp_path, where):
    path = tmp_path / "nul.csv"
    body = HEADER + _rows(where) + "5,6\x00,3,100\n" + _rows(20)
    path.write_text(body)
    assert (len(HEADER) + len(_rows(where)) > (1 << 16)) == (where == 9000)
    with pytest.raises(InputError, match="binary") as err:
        import_files(store, [str(path)], name="n")
    assert err.value.line == where + 2
    with store.session() as s:
        from engine.store import repository as repo
        assert repo.list_datasets(s) == []


def test_a_negative_rating_is_refused_naming_the_line(store, tmp_path):
    path = tmp_path / "neg.csv"
    path.write_text(HEADER + _rows(20) + "5,6,-5,100\n" + _rows(5, 30))
    with pytest.raises(InputError, match="negative") as err:
        import_files(store, [str(path)], name="neg")
    assert err.value.line == 22 and err.value.column == "rating"
    ok = import_files(store, [str(path)], name="neg", mapping={"rating_min": -5, "rating_max": 5})
    assert ok.rating_min == -5


# ---- issue 19, section 6: long fields, wide headers, old Mac line ends --------------------------------

def _movies(title: str, at: int = 2, n: int = 89) -> str:
    """An item table for `_rows`, `title` on item `at` (line at + 1)."""
    return "movieId,title,genres\n" + "".join(f"{k},{title if k == at else f'Movie {k}'},Drama\n"
                                               for k in range(1, max(n, at) + 1))


def test_a_10_mb_unquoted_title_is_read_as_lines_up_to_16_mb_are(store, tmp_path):
    from engine.data.dataset import load_dataset
    (tmp_path / "ratings.csv").write_text(HEADER + _rows(30))
    (tmp_path / "movies.csv").write_text(_movies("T" * (10 << 20)))
    s = import_files(store, [tmp_path / "ratings.csv", tmp_path / "movies.csv"], name="long")
    ds = load_dataset(store, s.dataset_id)
    assert len(ds.titles[list(ds.item_ids).index("2")]) == 10 << 20


@pytest.mark.parametrize("cell", ["x" * 2000, '"' + "x, y" * 500 + '"'])
def test_a_field_over_the_limit_names_the_limit_line_and_column(store, tmp_path, cell):
    import csv
    (tmp_path / "ratings.csv").write_text(HEADER + _rows(30))
    (tmp_path / "movies.csv").write_text(_movies(cell, at=5000))     # beyond the 64 KB sniffed
    old = csv.field_size_limit(1000)          # the real limit is 16 MB: a small one keeps the file small
    try:
        with pytest.raises(InputError, match="a field is longer than the limit of 1,000 characters") as err:
            import_files(store, [tmp_path / "ratings.csv", tmp_path / "movies.csv"], name="long")
    finally:
        csv.field_size_limit(old)
    assert (Path(err.value.path).name, err.value.line, err.value.column) == ("movies.csv", 5001, 2)


def test_the_field_limit_is_the_line_limit():
    import csv
    assert csv.field_size_limit() >= textio.MAX_LINE_BYTES


def test_a_header_with_too_many_columns_says_so_with_the_limit(store, tmp_path):
    path = tmp_path / "wide.csv"                       # 100,000 columns: a 600 KB header
    path.write_text(",".join(f"c{k}" for k in range(100_000)) + "\n" + ",".join("1" * 100_000) + "\n")
    with pytest.raises(InputError, match="the header has 100,000 columns, more than the limit of 10,000") as err:
        import_files(store, [path], name="wide")
    assert err.value.line == 1 and err.value.path == str(path)


def test_a_header_longer_than_the_sniffed_sample_is_read_whole(tmp_path):
    from engine.ingest.sniff import sniff_file
    names = [f"feature_column_{k:06d}" for k in range(5000)]     # ~110 KB: beyond the 64 KB sample
    path = tmp_path / "wide.csv"
    path.write_text("user,item," + ",".join(names) + "\n" + ("1,2," + ",".join("0" * 5000) + "\n") * 3)
    s = sniff_file(path)
    assert s.n_columns == 5002 and s.columns[-1] == "feature_column_004999"


@pytest.mark.parametrize("gz", [False, True])
def test_old_mac_line_ends_are_read(store, tmp_path, gz):
    body = (HEADER + _rows(40)).replace("\n", "\r").encode()
    path = tmp_path / ("mac.csv.gz" if gz else "mac.csv")
    path.write_bytes(gzip.compress(body) if gz else body)
    s = import_files(store, [path], name=f"mac{gz}")
    assert s.rows_read == s.n_users == s.n_items == 40


def test_old_mac_line_ends_keep_line_numbers_in_errors(store, tmp_path):
    path = tmp_path / "mac.csv"
    path.write_bytes((HEADER + _rows(20) + "5,6,-5,100\n" + _rows(5)).replace("\n", "\r").encode())
    with pytest.raises(InputError, match="negative") as err:
        import_files(store, [path], name="mac")
    assert err.value.line == 22
