"""Several writers at once (issue 8, section 2): an import holds no lock while it reads and stages,
finished work waits for a busy database instead of being thrown away, and several processes can
create the same brand-new database at once."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from engine.ingest.importer import import_files
from engine.runs.baselines import fit_baseline
from engine.store import repository as repo


def _csv(path, users=30, items=12):
    path.write_text("userId,movieId,rating,timestamp\n" + "".join(
        f"{u},{i},{1 + (u * i) % 5},{1000 + u * 10 + i}\n"
        for u in range(1, users) for i in range(1, items) if (u + i) % 3))
    return path


def _write_now(db) -> None:
    """Another writer that does not wait at all: fails with 'database is locked' if anyone holds the lock."""
    con = sqlite3.connect(db, timeout=0)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute("CREATE TABLE IF NOT EXISTS other_writer (x)")
        con.execute("INSERT INTO other_writer VALUES (1)")
        con.commit()
    finally:
        con.close()


def test_import_holds_no_lock_while_it_reads_and_stages(store, tmp_path):
    db = store.engine.url.database
    wrote = []

    def progress(u):
        if u.stage == "interactions":    # rows are parsed and staged: another program writes now
            _write_now(db)
            wrote.append(u.rows)

    summary = import_files(store, [str(_csv(tmp_path / "r.csv"))], name="r", progress=progress)
    assert wrote and summary.n_interactions > 0
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM other_writer").fetchone()[0] == len(wrote)


class Blocker:
    """Holds SQLite's write lock from another connection until the waiting job reports that it waits."""

    def __init__(self, db):
        self.con = sqlite3.connect(db, timeout=0)
        self.con.execute("BEGIN IMMEDIATE")
        self.waits = []

    def progress(self, u):
        if "waiting for the database" in str(getattr(u, "stage", "")):
            self.waits.append(u)
            if self.con is not None:
                self.con.commit()
                self.con.close()
                self.con = None


def test_finished_run_waits_for_a_busy_database_instead_of_being_lost(store, tmp_path):
    import_files(store, [str(_csv(tmp_path / "r.csv"))], name="r")
    blocker = Blocker(store.engine.url.database)
    run_id = fit_baseline(store, "r", "popularity", progress=blocker.progress)
    assert blocker.waits and blocker.con is None
    with store.session() as s:
        assert [r.id for r in repo.list_runs(s)] == [run_id]


def test_finished_import_waits_for_a_busy_database(store, tmp_path):
    blocker = Blocker(store.engine.url.database)
    summary = import_files(store, [str(_csv(tmp_path / "r.csv"))], name="r", progress=blocker.progress)
    assert blocker.waits and summary.n_interactions > 0


def test_cancel_while_waiting_for_the_database_writes_nothing(store, tmp_path):
    from engine.errors import CancelledError
    from engine.jobs.cancel import CancelToken
    import_files(store, [str(_csv(tmp_path / "r.csv"))], name="r")
    con = sqlite3.connect(store.engine.url.database, timeout=0)
    con.execute("BEGIN IMMEDIATE")
    token = CancelToken()

    def progress(u):
        if "waiting" in str(getattr(u, "stage", "")):
            token.cancel()

    with pytest.raises(CancelledError):
        fit_baseline(store, "r", "popularity", progress=progress, cancel=token)
    con.rollback()
    con.close()
    with store.session() as s:
        assert repo.list_runs(s) == []
    runs_dir = store.artifact_root / "runs"
    assert not runs_dir.exists() or list(runs_dir.iterdir()) == []


OPENER = textwrap.dedent("""
    import os, sys, time
    from engine.store import open_store
    go = sys.argv[2]
    open(go + "." + str(os.getpid()), "w").close()   # imported and ready
    while not os.path.exists(go):
        time.sleep(0.005)
    open_store(sys.argv[1]).close()
""")


def test_many_processes_create_a_new_database_at_once(tmp_path):
    db, go = tmp_path / "new.db", tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", OPENER, str(db), str(go)], stderr=subprocess.PIPE, text=True)
             for _ in range(8)]
    while len(list(tmp_path.glob("go.*"))) < len(procs) and all(p.poll() is None for p in procs):
        time.sleep(0.05)   # until all have imported (a race is tested, not a speed)
    go.write_text("go")   # then they all open it at once
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), [e.strip().splitlines()[-1:] for e in errors if e.strip()]
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM alembic_version").fetchone()[0] == 1
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_import_writes_in_short_steps_and_shows_the_dataset_only_when_complete(store, tmp_path, monkeypatch):
    import engine.ingest.sqlite_import as sqlite_import
    monkeypatch.setattr(sqlite_import, "MERGE_ROWS", 40)
    monkeypatch.setattr(sqlite_import, "MERGE_PAUSE_S", 0.0)
    db = store.engine.url.database
    between = []

    def progress(u):
        if u.stage == "writing":      # between two write steps: the lock is free, the dataset hidden
            _write_now(db)
            with store.session() as s:
                between.append([d.name for d in repo.list_datasets(s)])

    summary = import_files(store, [str(_csv(tmp_path / "r.csv"))], name="r", progress=progress)
    assert summary.n_interactions > 200 and len(between) >= 5 and all(b == [] for b in between)
    with store.session() as s:
        assert [d.name for d in repo.list_datasets(s)] == ["r"]
        assert repo.get_dataset(s, "r").n_interactions == summary.n_interactions


def test_a_cancel_between_write_steps_leaves_nothing(store, tmp_path, monkeypatch):
    import engine.ingest.sqlite_import as sqlite_import
    from engine.errors import CancelledError
    from engine.jobs.cancel import CancelToken
    monkeypatch.setattr(sqlite_import, "MERGE_ROWS", 40)
    token = CancelToken()

    def progress(u):
        if u.stage == "writing":
            token.cancel()

    with pytest.raises(CancelledError):
        import_files(store, [str(_csv(tmp_path / "r.csv"))], name="r", progress=progress, cancel=token)
    con = sqlite3.connect(store.engine.url.database)
    assert [con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("datasets", "interactions", "users")] \
        == [0, 0, 0]


def test_an_import_killed_midway_is_cleaned_up(store, tmp_path):
    from engine.ingest.importer import clean_abandoned_imports
    from engine.ingest.staging import IMPORTING
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with store.session() as s:
        repo.create_dataset(s, "half", source={IMPORTING: dead.pid}, rating_min=None, rating_max=None,
                            positive_threshold=None)
        repo.create_dataset(s, "running", source={IMPORTING: __import__("os").getpid()}, rating_min=None,
                            rating_max=None, positive_threshold=None)
        assert repo.list_datasets(s) == []
    assert clean_abandoned_imports(store).removed == ["half"]   # the live importer's dataset stays
    con = sqlite3.connect(store.engine.url.database)
    assert [r[0] for r in con.execute("SELECT name FROM datasets")] == ["running"]
