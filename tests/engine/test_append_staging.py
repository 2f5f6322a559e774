"""A killed `import --append` leaves nothing visible (issue 19, section 2): its staging dataset is hidden
from every listing until it is merged, kept while its writer runs, and removed by the next tidy-up
once the writer is gone. Writers on another machine (a shared PostgreSQL store) are never judged by pid."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import pytest

from engine.cli.main import main
from engine.errors import NotFoundError
from engine.ingest.importer import import_files
from engine.ingest.staging import IMPORTING
from engine.runs.maintenance import tidy
from engine.store import repository as repo
from engine.store.ownership import process_mark, writer_gone
from engine.store.schema import DatasetRow

APPENDER = """
import signal, sys
import engine.ingest.append as append
from engine.store import open_store
real = append.import_files
def staged_then_hang(*a, **kw):
    summary = real(*a, **kw)                  # the staging dataset is written...
    print(summary.name, flush=True)           # tells the test it is there...
    signal.pause()                            # ...and waits to be killed before the merge
append.import_files = staged_then_hang
append.append_files(open_store(sys.argv[1]), [sys.argv[2]], "r")
"""


def _csv(path, users):
    path.write_text("userId,movieId,rating,timestamp\n" + "".join(
        f"{u},{i},{1 + (u * i) % 5},{1000 + u * 10 + i}\n" for u in users for i in range(1, 12) if (u + i) % 3))
    return str(path)


def _all_rows(store):
    with store.session() as s:
        return {r.name: dict(r.source or {}) for r in s.query(DatasetRow)}


def test_a_killed_append_is_hidden_then_removed(store, tmp_path, capsys):
    import_files(store, [_csv(tmp_path / "r.csv", range(1, 20))], name="r")
    child = subprocess.Popen([sys.executable, "-c", APPENDER, store.engine.url.database,
                              _csv(tmp_path / "more.csv", range(15, 40))], stdout=subprocess.PIPE, text=True)
    try:
        staging = child.stdout.readline().strip()          # blocks until the staging dataset is written
        assert staging, f"the appending process ended first (exit code {child.wait()})"
        assert staging.startswith(".append-") and staging in _all_rows(store)
        with store.session() as s:
            assert [d.name for d in repo.list_datasets(s)] == ["r"]          # hidden while staged
            with pytest.raises(NotFoundError):
                repo.get_dataset(s, staging)
        assert main(["datasets", "--db", store.engine.url.database, "--json"]) == 0
        assert staging not in capsys.readouterr().out
        assert tidy(store).removed_imports == []                              # its writer still runs
        assert staging in _all_rows(store)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(60)
    finally:
        if child.poll() is None:
            child.kill()
    assert tidy(store).removed_imports == [staging]
    assert set(_all_rows(store)) == {"r"}
    with store.session() as s:
        assert repo.get_dataset(s, "r").n_users == 19                        # the target unchanged


def test_a_finished_append_leaves_no_staging_dataset(store, tmp_path):
    from engine.ingest.append import append_files
    import_files(store, [_csv(tmp_path / "r.csv", range(1, 20))], name="r")
    summary = append_files(store, [_csv(tmp_path / "more.csv", range(15, 40))], "r")
    assert summary.new_users == 20
    assert set(_all_rows(store)) == {"r"} and IMPORTING not in _all_rows(store)["r"]


def test_writer_marks():
    me = process_mark()
    assert writer_gone(me) is None                                           # this process runs
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert writer_gone({**me, "pid": dead.pid, "started": None}) is not None
    assert writer_gone(dead.pid) is not None                                 # an older llmrec's bare pid
    assert writer_gone({**me, "started": "1"}) is not None                   # this pid, another process
    assert writer_gone({**me, "pid": dead.pid, "host": socket.gethostname() + "-elsewhere"}) is None
    assert writer_gone("garbage") is None and writer_gone(True) is None


def test_another_machines_unfinished_import_is_reported_not_removed(any_store):
    with any_store.session() as s:
        repo.create_dataset(s, "theirs", source={IMPORTING: {"pid": 1, "started": None, "host": "elsewhere"}},
                            rating_min=None, rating_max=None, positive_threshold=None)
    report = tidy(any_store)
    assert report.removed_imports == [] and [n for n, _ in report.kept_imports] == ["theirs"]
    assert "theirs" in _all_rows(any_store)
