"""Hostile input files (issue 8, section 3): linear time and bounded memory whatever the file holds,
and the same clear refusal wherever in the file the problem is."""
from __future__ import annotations

import gzip
import time

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
    with open(path, "rb") as f, textio.open_source(path) as src:
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
        from engine.storage import repository as repo
        assert repo.list_datasets(s) == []


def test_a_negative_rating_is_refused_naming_the_line(store, tmp_path):
    path = tmp_path / "neg.csv"
    path.write_text(HEADER + _rows(20) + "5,6,-5,100\n" + _rows(5, 30))
    with pytest.raises(InputError, match="negative") as err:
        import_files(store, [str(path)], name="neg")
    assert err.value.line == 22 and err.value.column == "rating"
    ok = import_files(store, [str(path)], name="neg", mapping={"rating_min": -5, "rating_max": 5})
    assert ok.rating_min == -5
