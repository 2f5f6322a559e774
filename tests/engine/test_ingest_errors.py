"""Every bad input names the file, the line, the column and what was expected; a failed or cancelled
import leaves the database exactly as it was (compared with iterdump)."""
from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from engine.errors import CancelledError, EngineError, InputError
from engine.ingest import detect_format, import_files
from engine.jobs.cancel import CancelToken
from tests.conftest import db_dump as dump

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def seeded(any_store):
    store = any_store
    """A store that already holds one dataset, so 'unchanged' means something."""
    import_files(store, [DATA / "tweetings"], name="existing")
    return store


def fails(store, path, match, *, line=None, column=None, in_file=None, **kw) -> InputError:
    before = dump(store)
    with pytest.raises(InputError, match=match) as info:
        import_files(store, [path], **kw)
    err = info.value
    assert err.path is not None and Path(err.path).name == (in_file or Path(path).name)
    if line is not None:
        assert err.line == line, str(err)
    if column is not None:
        assert err.column == column, str(err)
    assert dump(store) == before
    return err


def write(tmp_path, name, text: str | bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return p


def test_empty_file(seeded, tmp_path):
    fails(seeded, write(tmp_path, "e.csv", ""), "empty", line=1)
    fails(seeded, write(tmp_path, "e2.csv", "\n\n  \n"), "empty", line=1)


def test_header_only_file(seeded, tmp_path):
    fails(seeded, write(tmp_path, "h.csv", "user,item,rating\n"), "no interactions to import")


def test_binary_file(seeded, tmp_path):
    fails(seeded, write(tmp_path, "b.csv", b"user,item\n1,2\n\x00\x01\x02\xff" * 10), "binary", line=3)
    fails(seeded, write(tmp_path, "u16.csv", "user,item\n1,2\n".encode("utf-16")), "UTF-16")


def test_corrupt_gzip(seeded, tmp_path):
    good = gzip.compress(b"user,item\n" + b"1,2\n" * 5000)
    fails(seeded, write(tmp_path, "c.csv.gz", good[: len(good) // 2]), "gzip")


def test_missing_file(seeded, tmp_path):
    fails(seeded, tmp_path / "nope.csv", "no such file")


def test_missing_column_named_in_mapping(seeded, tmp_path):
    p = write(tmp_path, "m.csv", "user,item,rating\n1,2,3\n")
    err = fails(seeded, p, "missing column for the timestamp", line=1, column="when", mapping={"timestamp": "when"})
    assert "user, item, rating" in str(err)


def test_no_user_column_in_a_header_without_usual_names(seeded, tmp_path):
    p = write(tmp_path, "n.csv", "who,what,score\nA,x,1\nB,y,2\n")
    fails(seeded, p, "no user column", line=1)


def test_non_numeric_rating_names_line_and_column(seeded, tmp_path):
    p = write(tmp_path, "r.csv", "user,item,rating\n1,2,3\n1,3,4\n2,2,good\n")
    err = fails(seeded, p, "expected a number for the rating, found 'good'", line=4, column="rating")
    assert str(err).startswith(str(p) + ", line 4, column 'rating'")


def test_non_finite_rating(seeded, tmp_path):
    fails(seeded, write(tmp_path, "nan.csv", "user,item,rating\n1,2,nan\n"), "finite", line=2, column="rating")


def test_non_numeric_rating_in_a_later_fast_chunk(seeded, tmp_path, monkeypatch):
    import engine.ingest.staging as staging
    monkeypatch.setattr(staging, "CHUNK_BYTES", 64)
    lines = [f"{u}\t{u + 1}\t4\t{1000 + u}" for u in range(60)]
    lines[47] = "47\t48\tx\t1047"
    p = write(tmp_path, "later.tsv", "\n".join(lines) + "\n")
    fails(seeded, p, "expected a number for the rating", line=48, column=3)


def test_ragged_row(seeded, tmp_path):
    p = write(tmp_path, "rag.csv", "user,item,rating\n1,2,3\n1,3\n2,2,5\n")
    fails(seeded, p, "ragged row: expected 3 columns like the header, found 2", line=3)
    p = write(tmp_path, "rag.dat", "1::2::3::4\n1::3::4::5::6\n")
    fails(seeded, p, "ragged row", line=2, format="movielens")


def test_bad_timestamp(seeded, tmp_path):
    p = write(tmp_path, "t.csv", "user,item,timestamp\n1,2,2020-01-01\n1,3,yesterday\n")
    fails(seeded, p, "expected a timestamp .* found 'yesterday'", line=3, column="timestamp")
    p = write(tmp_path, "t2.csv", "user,item,timestamp\n1,2,2020-01-01\n")
    fails(seeded, p, "epoch seconds", line=2, column="timestamp", mapping={"timestamp_format": "epoch"})


def test_empty_user_is_an_error_unless_skipped(seeded, tmp_path):
    p = write(tmp_path, "eu.csv", "user,item\n1,a\n,b\n2,c\n")
    fails(seeded, p, "empty user id", line=3, column="user")
    s = import_files(seeded, [p], mapping={"skip_missing_user": True})
    assert s.skipped == {"missing user": 1} and s.n_interactions == 2


def test_empty_item(seeded, tmp_path):
    fails(seeded, write(tmp_path, "ei.csv", "user,item\n1,a\n2,\n"), "empty item id", line=3, column="item")


def test_unknown_item_is_an_error_or_dropped_and_counted(seeded, tmp_path):
    r = write(tmp_path, "ratings.dat", "1::10::5::100\n1::11::3::101\n2::99::4::102\n2::10::4::103\n")
    write(tmp_path, "movies.dat", "10::Ten (2000)::Drama\n11::Eleven (2001)::Comedy\n12::Twelve::\n")
    fails(seeded, r, "unknown item id '99'.*movies.dat", line=3, column=2)
    s = import_files(seeded, [r], on_unknown_item="drop", name="dropped")
    assert s.skipped == {"unknown item" : 1} and (s.n_users, s.n_items, s.n_interactions) == (2, 3, 3)


def test_ragged_and_bad_item_file(seeded, tmp_path):
    r = write(tmp_path, "ratings.dat", "1::10::5::100\n")
    write(tmp_path, "movies.dat", "10::Ten (2000)::Drama\n11\n")
    fails(seeded, r, "ragged row", line=2, in_file="movies.dat")


def test_bad_genre_flag_in_u_item(seeded, tmp_path):
    (tmp_path / "u.data").write_text("1\t1\t5\t100\n")
    flags = "|".join(["0"] * 18 + ["x"])
    (tmp_path / "u.item").write_text(f"1|Title|01-Jan-1995||url|{flags}\n")
    fails(seeded, tmp_path / "u.data", "genre flag", line=1, column=24, in_file="u.item")


def test_unknown_delimiter(seeded, tmp_path):
    fails(seeded, write(tmp_path, "one.txt", "abc\ndef\n"), "cannot tell how the columns are separated")


def test_existing_name_is_refused_without_change(seeded, tmp_path):
    before = dump(seeded)
    with pytest.raises(EngineError, match="already exists"):
        import_files(seeded, [DATA / "tweetings"], name="existing")
    assert dump(seeded) == before


def test_unknown_format_and_option(seeded):
    with pytest.raises(InputError, match="unknown format"):
        detect_format([DATA / "ml-1m"], format="parquet")
    with pytest.raises(InputError, match="unknown mapping option"):
        import_files(seeded, [DATA / "ml-1m"], mapping={"usr": 0})


def test_failure_after_many_chunks_leaves_database_unchanged(seeded, tmp_path, monkeypatch):
    import engine.ingest.staging as staging
    monkeypatch.setattr(staging, "CHUNK_BYTES", 128)
    lines = [f"{u},{u % 7},{1 + u % 5}" for u in range(300)] + ["300,1,oops"]
    p = write(tmp_path, "late.csv", "user,item,rating\n" + "\n".join(lines) + "\n")
    fails(seeded, p, "expected a number", line=302, column="rating")


def test_cancel_mid_import_leaves_database_unchanged(seeded, tmp_path, monkeypatch):
    import engine.ingest.staging as staging
    monkeypatch.setattr(staging, "CHUNK_BYTES", 128)
    p = write(tmp_path, "c.csv", "user,item\n" + "".join(f"{u},{u % 11}\n" for u in range(400)))
    token = CancelToken()
    seen = []

    def progress(u):
        seen.append(u)
        if u.stage == "interactions" and u.rows > 100:
            token.cancel()

    before = dump(seeded)
    with pytest.raises(CancelledError):
        import_files(seeded, [p], progress=progress, cancel=token)
    assert 100 < seen[-1].rows < 400
    assert dump(seeded) == before


def test_cancel_during_final_write_is_honoured(seeded, tmp_path):
    p = write(tmp_path, "w.csv", "user,item\n" + "".join(f"{u},{u % 13}\n" for u in range(3000)))
    token = CancelToken()

    def progress(u):
        if u.stage == "writing":
            token.cancel()

    before = dump(seeded)
    with pytest.raises(CancelledError):
        import_files(seeded, [p], progress=progress, cancel=token)
    assert dump(seeded) == before


def test_timestamp_out_of_range(seeded, tmp_path):
    p = write(tmp_path, "big.csv", "user,item,timestamp\n1,2,100\n1,3," + "9" * 30 + "\n")
    fails(seeded, p, "out of range", line=3, column="timestamp")
