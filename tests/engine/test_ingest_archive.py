"""Hostile and ambiguous .zip archives (issue 19, section 4): bounded before unpacking, nothing left on
disk by a refusal, old unpackings cleaned without touching one another process uses, and no member
dropped silently."""
from __future__ import annotations

import io
import os
import struct
import zipfile
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.ingest import archive, detect_format, import_files
from tests.conftest import db_dump

HEADER = "userId,movieId,rating,timestamp\n"


def _rows(n: int) -> str:
    return "".join(f"{u % 7 + 1},{u % 11 + 1},{1 + u % 5},{1000 + u}\n" for u in range(n))


@pytest.fixture(autouse=True)
def unpack_root(tmp_path, monkeypatch):
    """Unpack under tmp_path; afterwards drop this process's holds as its exit would."""
    root = tmp_path / "unpacked"
    monkeypatch.setattr(archive, "ROOT", root)
    yield root
    archive.release_all()


def _left(root: Path) -> list[str]:
    """What an unpacking left in the root (its lock file aside)."""
    return sorted(p.name for p in root.iterdir() if p.name != ".lock") if root.exists() else []


def _zip(path: Path, members: dict[str, str | bytes], method=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


# ---- limits, checked before anything is written -----------------------------------------------------

def test_total_size_over_the_limit_is_refused_before_unpacking(tmp_path, unpack_root, monkeypatch):
    z = _zip(tmp_path / "big.zip", {"ratings.csv": HEADER + _rows(2000)})
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 10_000)
    monkeypatch.setattr(archive, "_copy", lambda *a: pytest.fail("unpacked before the check"))
    with pytest.raises(InputError, match=r"big\.zip: the archive unpacks to .* more than the limit of") as err:
        detect_format([z])
    assert "9.8 KiB" in str(err.value) and _left(unpack_root) == []


def test_the_limit_follows_free_disk_space(tmp_path, unpack_root, monkeypatch):
    z = _zip(tmp_path / "big.zip", {"ratings.csv": HEADER + _rows(2000)})
    usage = type("Usage", (), {"free": archive.RESERVE_BYTES + 1000})
    monkeypatch.setattr(archive.shutil, "disk_usage", lambda _p: usage)
    with pytest.raises(InputError, match="more than the free space in") as err:
        detect_format([z])
    assert "big.zip" in str(err.value) and _left(unpack_root) == []


def test_a_zip_bomb_ratio_is_refused_before_unpacking(tmp_path, unpack_root, monkeypatch):
    # 2 MB of one repeated row deflates about 500 times: real CSV deflates 3 to 15 times
    z = _zip(tmp_path / "bomb.zip", {"ratings.csv": HEADER + "1,2,3,4\n" * 250_000})
    monkeypatch.setattr(archive, "RATIO_FLOOR_BYTES", 1 << 20)
    with pytest.raises(InputError, match=r"bomb\.zip: .* over 100 times its own size .* zip bomb"):
        detect_format([z])
    assert _left(unpack_root) == []
    monkeypatch.setattr(archive, "RATIO_FLOOR_BYTES", 4 << 20)     # under the floor any ratio is fine
    assert [Path(p).name for p in detect_format([z]).paths] == ["ratings.csv"]


def test_too_many_members_are_refused_naming_the_limit(tmp_path, unpack_root):
    z = _zip(tmp_path / "many.zip", {f"part{k}.csv": HEADER + _rows(1) for k in range(1001)},
             zipfile.ZIP_STORED)
    with pytest.raises(InputError, match=r"many\.zip: the archive holds 1,001 members, more than the limit of 1,000"):
        detect_format([z])
    assert _left(unpack_root) == []


def test_a_member_unpacking_beyond_its_declared_size_is_stopped_while_copied(tmp_path, unpack_root, monkeypatch):
    z = _zip(tmp_path / "liar.zip", {"ratings.csv": HEADER + _rows(50), "movies.csv": "movieId,title\n1,A\n"})
    real_open = zipfile.ZipFile.open

    def lying_open(self, info, *a, **kw):     # a decompressor that gives more than the header says
        if info.filename == "ratings.csv":
            return io.BytesIO(b"9,9,9,9\n" * 100_000)
        return real_open(self, info, *a, **kw)

    monkeypatch.setattr(zipfile.ZipFile, "open", lying_open)
    with pytest.raises(InputError, match=r"liar\.zip: ratings\.csv unpacks to more than the [\d,]+ bytes its "
                                         "header declares"):
        detect_format([z])
    assert _left(unpack_root) == []


def test_a_header_declaring_less_than_the_member_holds_is_refused(tmp_path, unpack_root):
    z = _zip(tmp_path / "short.zip", {"ratings.csv": HEADER + _rows(50)}, zipfile.ZIP_STORED)
    raw = bytearray(z.read_bytes())
    cd = raw.rindex(b"PK\x01\x02")                  # the central directory entry: its size field is at +24
    struct.pack_into("<I", raw, cd + 24, 40)
    z.write_bytes(bytes(raw))
    with pytest.raises(InputError, match=r"short\.zip: cannot unpack ratings\.csv"):
        detect_format([z])
    assert _left(unpack_root) == []


def test_an_interrupted_unpacking_leaves_nothing(tmp_path, unpack_root, monkeypatch):
    z = _zip(tmp_path / "ml.zip", {"ml/ratings.csv": HEADER + _rows(50), "ml/movies.csv": "movieId,title\n1,A\n"})
    real_copy, calls = archive._copy, []

    def copy_then_interrupt(*a):
        calls.append(a)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real_copy(*a)

    monkeypatch.setattr(archive, "_copy", copy_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        detect_format([z])
    assert len(calls) == 2 and _left(unpack_root) == []


# ---- the unpacked folders: reused, and cleaned when nobody uses them ----------------------------------

def test_unpacked_once_then_reused_and_removed_when_released(tmp_path, unpack_root, monkeypatch):
    z = _zip(tmp_path / "ml.zip", {"ml/ratings.csv": HEADER + _rows(50), "ml/movies.csv": "movieId,title\n1,A\n"})
    first = archive.zip_files(z)
    assert [p.name for p in first] == ["ratings.csv", "movies.csv"]
    monkeypatch.setattr(archive, "_copy", lambda *a: pytest.fail("unpacked again"))
    assert archive.zip_files(z) == first
    archive.release_all()
    assert _left(unpack_root) == []


@pytest.mark.skipif(archive.fcntl is None, reason="flock only")
def test_old_unpackings_are_cleaned_but_not_one_in_use(tmp_path, unpack_root):
    import fcntl
    unpack_root.mkdir()
    stale = unpack_root / "old-0123456789abcdef"          # a crashed run's: nobody holds it
    stale.mkdir()
    (stale / "ratings.csv").write_text("x")
    (stale / ".complete").touch()
    stale_part = unpack_root / "old-0123456789abcdef.part-x1"
    stale_part.mkdir()
    busy = unpack_root / "busy-fedcba9876543210.part-x2"   # another process unpacking right now
    busy.mkdir()
    fd = os.open(busy, os.O_RDONLY)                        # a separate open file: a lock like another process's
    fcntl.flock(fd, fcntl.LOCK_SH)
    try:
        z = _zip(tmp_path / "new.zip", {"ratings.csv": HEADER + _rows(5)})
        got = archive.zip_files(z)
        assert _left(unpack_root) == sorted([busy.name, got[0].parent.name])
        archive.release_all()
        assert _left(unpack_root) == [busy.name]
    finally:
        os.close(fd)


@pytest.mark.skipif(archive.fcntl is None, reason="flock only")
def test_a_folder_another_process_uses_survives_this_ones_exit(tmp_path, unpack_root):
    import fcntl
    z = _zip(tmp_path / "shared.zip", {"ratings.csv": HEADER + _rows(5)})
    folder = archive.zip_files(z)[0].parent
    fd = os.open(folder, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_SH)
    try:
        archive.release_all()
        assert (folder / "ratings.csv").exists()
        assert archive.zip_files(z)[0].parent == folder     # reused, not unpacked again
    finally:
        os.close(fd)
    archive.release_all()
    assert _left(unpack_root) == []


# ---- which members are used: never one dropped silently -----------------------------------------------

def test_two_members_with_the_same_name_are_refused_naming_both(store, tmp_path, unpack_root):
    z = _zip(tmp_path / "two.zip", {"a/ratings.csv": HEADER + _rows(500), "b/ratings.csv": HEADER + _rows(1)})
    before = db_dump(store)
    with pytest.raises(InputError, match=r"two\.zip: the archive holds two files named ratings\.csv "
                                         r"\(a/ratings\.csv and b/ratings\.csv\)"):
        import_files(store, [z], name="two")
    assert db_dump(store) == before and _left(unpack_root) == []


def test_an_unrecognised_archive_with_unused_data_is_refused_naming_it(store, tmp_path, unpack_root):
    z = _zip(tmp_path / "three.zip", {"events.csv": "user,item\n" + "1,2\n" * 300,
                                      "items.csv": "item,title\n2,A\n" * 20, "more_events.csv": "user,item\n1,3\n"})
    before = db_dump(store)
    with pytest.raises(InputError, match=r"three\.zip: the archive holds data the import would not use: "
                                         r"more_events\.csv; llmrec imports the largest"):
        import_files(store, [z], name="three")
    assert db_dump(store) == before and _left(unpack_root) == []


def test_data_in_a_format_llmrec_cannot_read_is_named_too(tmp_path):
    z = _zip(tmp_path / "mixed.zip", {"events.csv": "user,item\n1,2\n", "items.json": "[]"})
    with pytest.raises(InputError, match=r"would not use: items\.json"):
        detect_format([z])


def test_a_recognised_dataset_may_leave_its_side_files(store, tmp_path, unpack_root):
    members = {"ml-latest-small/ratings.csv": HEADER + _rows(40),
               "ml-latest-small/movies.csv": "movieId,title,genres\n" + "".join(
                   f"{k},Movie {k} (1995),Drama\n" for k in range(1, 12)),
               "ml-latest-small/tags.csv": "userId,movieId,tag,timestamp\n1,1,funny,1000\n",
               "ml-latest-small/links.csv": "movieId,imdbId,tmdbId\n1,0114709,862\n",
               "ml-latest-small/README.txt": "the MovieLens readme"}
    z = _zip(tmp_path / "ml-latest-small.zip", members)
    det = detect_format([z])
    assert [Path(p).name for p in det.paths] == ["ratings.csv", "movies.csv", "tags.csv"]
    assert import_files(store, [z], name="ml").n_interactions == 40
    extra = _zip(tmp_path / "ml-plus.zip", {**members, "ml-latest-small/my_ratings.csv": HEADER + _rows(3)})
    with pytest.raises(InputError, match=r"ml-plus\.zip: .* would not use: ml-latest-small/my_ratings\.csv"):
        detect_format([extra])


def test_an_archive_inside_the_archive_is_named(tmp_path, unpack_root):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("ratings.csv", HEADER + _rows(5))
    z = _zip(tmp_path / "x.zip", {"data/inner.zip": inner.getvalue()})
    with pytest.raises(InputError, match=r"x\.zip: the archive holds another archive, data/inner\.zip; "
                                         "unpack it first"):
        detect_format([z])
    assert _left(unpack_root) == []


def test_an_archive_without_data_names_what_it_holds(tmp_path):
    z = _zip(tmp_path / "docs.zip", {"README.md": "hello", "LICENSE": "MIT"})
    with pytest.raises(InputError, match=r"docs\.zip: the zip archive holds no data file .*README\.md, LICENSE"):
        detect_format([z])


DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.mark.parametrize("dataset", ["ml-100k", "ml-1m", "ml-latest"])
def test_movielens_archives_as_they_ship_import_like_their_folders(store, tmp_path, dataset):
    folder = DATA / dataset
    z = tmp_path / f"{dataset}.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f"{dataset}/{f.name}")
        zf.writestr(f"{dataset}/README.txt", "readme")       # what MovieLens archives also hold
        zf.writestr(f"{dataset}/u1.base" if dataset == "ml-100k" else f"{dataset}/users.dat", "1|2|3|4\n")
        zf.writestr(f"{dataset}/links.csv", "movieId,imdbId\n1,1\n")
    zipped, plain = detect_format([z]), detect_format([folder])
    assert [Path(p).name for p in zipped.paths] == [Path(p).name for p in plain.paths]
    assert zipped.mapping == plain.mapping        # ML-100K: the genre names from u.genre, unpacked too
    a = import_files(store, [z], name="zipped", dry_run=True)
    b = import_files(store, [folder], name="plain", dry_run=True)
    assert (a.n_users, a.n_items, a.n_interactions) == (b.n_users, b.n_items, b.n_interactions)
