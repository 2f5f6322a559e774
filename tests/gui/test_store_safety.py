"""Issue 8, section 1: nothing in the app's process that opens and closes the database file (Qt's
QMimeDatabase sniffing it for a QFileDialog, say) can cost a write or damage the database.

The app's process holds no SQLite connection at all (engine.store.process): the sequence
that lost every later write of the app before (sniff -> another process opens and closes the
database, deleting the -wal file -> the app writes) must leave every write visible to a third
process while the app still runs, and the database intact."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.explore.feedback import record_feedback
from engine.ingest.importer import import_files
from engine.runs.baselines import fit_baseline
from engine.store.process import StoreProcess

READER = r"""
import json, sqlite3, sys
from engine.store import open_store
store = open_store(sys.argv[1])            # opens (as `llmrec datasets` would) and closes
store.close()
if len(sys.argv) > 2:
    con = sqlite3.connect(sys.argv[1])
    out = {"feedback": con.execute("select count(*) from feedback").fetchone()[0],
           "runs": con.execute("select count(*) from runs").fetchone()[0],
           "integrity": con.execute("pragma integrity_check").fetchone()[0]}
    con.close()
    print(json.dumps(out))
"""


def _other_process(db: Path, read: bool = False) -> dict | None:
    out = subprocess.run([sys.executable, "-c", READER, str(db)] + (["read"] if read else []),
                         capture_output=True, text=True, timeout=300, check=True)
    return json.loads(out.stdout) if read else None


def _open_fds_on(db: Path) -> list[str]:
    names = {str(db), f"{db}-wal", f"{db}-shm"}
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.removesuffix(" (deleted)") in names:
            found.append(target)
    return found


@pytest.mark.parametrize("name", ["llmrec.db", "my ratings.sqlite"])
def test_sniffing_the_database_in_the_app_process_loses_no_write(qapp, tmp_path, name):
    from PySide6.QtCore import QMimeDatabase
    folder = tmp_path / "data dir"
    folder.mkdir()
    db = folder / name
    csv = tmp_path / "ratings.csv"
    csv.write_text("userId,movieId,rating,timestamp\n" + "".join(
        f"{u},{i},{1 + (u * i) % 5},{1000 + u * 10 + i}\n" for u in range(1, 13) for i in range(1, 10) if (u + i) % 3))
    store = StoreProcess.open(str(db))
    try:
        summary = store.call(import_files, [str(csv)], name="tiny")
        assert Path(f"{db}-wal").exists()
        mimes = QMimeDatabase()
        for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):   # what a QFileDialog listing the folder does
            if path.exists():
                mimes.mimeTypeForFile(str(path))
        _other_process(db)                                         # e.g. `llmrec datasets` in a terminal
        store.call(record_feedback, summary.dataset_id, 0, 1, "like")
        run_id = store.call(fit_baseline, "tiny", "popularity", holdout=False)
        assert run_id > 0
        seen = _other_process(db, read=True)                       # the app is still running
        assert seen == {"feedback": 1, "runs": 1, "integrity": "ok"}
        assert _open_fds_on(db) == []                              # by construction: no connection here
        assert store.alive
    finally:
        store.close()
    final = _other_process(db, read=True)
    assert final == {"feedback": 1, "runs": 1, "integrity": "ok"}


def test_the_app_itself_keeps_no_database_file_open(qtbot, tiny_db, tmp_path):
    """The whole app: after it opened the database, showed the explorer and stored a like, its process
    has no descriptor on the database files; a sniff there and another process opening and closing the
    database cost no later write."""
    from PySide6.QtCore import QMimeDatabase

    from tests.gui.conftest import make_controller
    ctrl = make_controller(qtbot, tiny_db, tmp_path)
    ex = ctrl.explorer_panel
    qtbot.waitUntil(lambda: ex.rec is not None, timeout=60000)
    first, second = int(ex.rec.rows[0].item), int(ex.rec.rows[1].item)
    with qtbot.waitSignal(ex.list_updated, timeout=30000):
        ex.give_feedback(first, "like")
    assert _open_fds_on(tiny_db) == []
    for path in (tiny_db, Path(f"{tiny_db}-wal"), Path(f"{tiny_db}-shm")):
        if path.exists():
            QMimeDatabase().mimeTypeForFile(str(path))
    _other_process(tiny_db)
    with qtbot.waitSignal(ex.list_updated, timeout=30000):
        ex.give_feedback(second, "dislike")
    qtbot.waitUntil(lambda: _other_process(tiny_db, read=True)["feedback"] == 2, timeout=60000)
    assert _other_process(tiny_db, read=True)["integrity"] == "ok"
    assert _open_fds_on(tiny_db) == []
