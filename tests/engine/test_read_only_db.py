"""A database this process cannot write (issue 19, section 6): read-only commands work on it (SQLite's
`mode=ro`, or `immutable=1` when its folder or disk is read-only too); writing commands are refused
before any work with one line, and nothing changes. A `file:` path names an existing file or is refused."""
from __future__ import annotations

import hashlib
import os
import stat

import pytest

import engine.store.db as db
from engine.cli.main import main
from engine.store import open_store


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def demo_db(tmp_path):
    path = tmp_path / "ro" / "a.db"
    assert main(["--db", str(path), "demo", "--users", "40", "--items", "60", "--interactions", "800",
                 "--name", "Demo movies", "--quiet"]) == 0
    assert main(["--db", str(path), "train", "--dataset", "Demo movies", "--model", "popularity"]) == 0
    store = open_store(str(path))      # checkpoint the WAL into the file, as a closed database is
    with store.engine.connect() as c:
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path


@pytest.mark.parametrize("what", ["file", "folder"])
def test_read_only_database_reads_and_refuses_writes(demo_db, what, monkeypatch, capsys):
    # root passes every permission check, so the permission is also stated to llmrec's probe; SQLite's own
    # read-only mode (mode=ro / immutable=1) is real either way and refuses any write by itself
    os.chmod(demo_db, stat.S_IRUSR | stat.S_IRGRP)
    if what == "folder":
        os.chmod(demo_db.parent, stat.S_IRUSR | stat.S_IXUSR)
    real = db._can_write
    monkeypatch.setattr(db, "_can_write", lambda p: False if (p == demo_db or (what == "folder" and p == demo_db.parent))
                        else real(p))
    before = _digest(demo_db)
    listing = sorted(os.listdir(demo_db.parent))
    try:
        store = open_store(str(demo_db))
        assert store.read_only and ("immutable=1" if what == "folder" else "mode=ro") in store.url
        assert store.display_name == str(demo_db)
        store.close()
        capsys.readouterr()
        assert main(["--db", str(demo_db), "datasets"]) == 0
        assert "Demo movies" in capsys.readouterr().out
        assert main(["--db", str(demo_db), "runs"]) == 0
        assert main(["--db", str(demo_db), "explore", "--run", "1", "--user", "u00001"]) == 0
        capsys.readouterr()
        for argv in (["train", "--dataset", "Demo movies", "--model", "lstm"],
                     ["demo"],
                     ["feedback", "like", "--dataset", "Demo movies", "--user", "u00001", "--item", "m00001"]):
            assert main(["--db", str(demo_db), *argv]) == 1
            err = capsys.readouterr().err.strip().splitlines()
            assert len(err) == 1 and "is read-only" in err[0] and "nothing was done" in err[0]
        assert main(["--db", str(demo_db), "doctor"]) == 0       # the check runs; nothing is removed
        with pytest.raises(Exception, match="readonly|read-only"):   # SQLite itself refuses a write
            store = open_store(str(demo_db))
            try:
                with store.session() as s:
                    s.connection().exec_driver_sql("DELETE FROM runs")
            finally:
                store.close()
    finally:
        os.chmod(demo_db.parent, stat.S_IRWXU)
        os.chmod(demo_db, stat.S_IRUSR | stat.S_IWUSR)
    assert _digest(demo_db) == before
    if what == "folder":
        assert sorted(os.listdir(demo_db.parent)) == listing      # not even a -wal or -shm file


def test_a_file_path_is_an_existing_file_or_an_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "nope.db"
    assert main(["--db", f"file:{missing}", "datasets"]) == 1
    err = capsys.readouterr().err
    assert "no database file" in err and not (tmp_path / "file:").exists() and not missing.exists()
    assert main(["--db", str(tmp_path / "real.db"), "datasets"]) == 0
    capsys.readouterr()
    assert main(["--db", f"file:{tmp_path / 'real.db'}?mode=ro", "datasets", "--json"]) == 0
    assert capsys.readouterr().out.strip() == "[]"
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("real.db")) == []
