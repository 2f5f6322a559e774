"""Issue 12: the importer sorts the whole staged file into key order (SQLite's external sorter) before
the keyed insert. What must not change: ids (numbered by first appearance), the stored content (per
(user, item) the latest timestamp wins, on a tie the later row of the file), bounded memory, and a
cancel at any point leaves the database as it was."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import engine.ingest.sqlite_import as sqlite_import
from engine.errors import CancelledError
from engine.ingest.importer import import_files
from engine.jobs.cancel import CancelToken
from tests.conftest import db_dump


def _shuffled_file(path, n: int, seed: int = 0) -> list[tuple[str, str, float, int]]:
    """n rows in random order with many repeated (user, item) pairs, some with equal timestamps (only
    the file order settles those)."""
    rng = np.random.default_rng(seed)
    u = rng.integers(0, max(2, n // 40), n)
    i = rng.integers(0, 3000, n)
    t = rng.integers(0, 50, n)                     # few distinct times: many ties among repeated pairs
    r = rng.integers(1, 11, n) / 2
    rows = [(f"u{a}", f"i{b}", float(c), int(d)) for a, b, c, d in zip(u.tolist(), i.tolist(), r.tolist(),
                                                                         t.tolist())]
    path.write_text("user,item,rating,timestamp\n" + "".join(f"{a},{b},{c:g},{d}\n" for a, b, c, d in rows))
    return rows


def _expected(rows):
    latest: dict = {}
    for u, i, r, t in rows:                        # the latest timestamp wins; on a tie the later row
        if (u, i) not in latest or t >= latest[(u, i)][1]:
            latest[(u, i)] = (r, t)
    return latest


def _stored(store, ds_id):
    con = sqlite3.connect(store.engine.url.database)
    try:
        users = [x for (x,) in con.execute("SELECT external_id FROM users WHERE dataset_id = ? ORDER BY idx", (ds_id,))]
        items = [x for (x,) in con.execute("SELECT external_id FROM items WHERE dataset_id = ? ORDER BY idx", (ds_id,))]
        rows = con.execute("SELECT user_idx, item_idx, rating, timestamp FROM interactions WHERE dataset_id = ? "
                           "ORDER BY rowid", (ds_id,)).fetchall()
    finally:
        con.close()
    return users, items, rows


BOUNDED_IMPORT = """
import sqlite3, sys
import engine.ingest.sqlite_import as sqlite_import
from engine.ingest.importer import import_files
from engine.store import open_store
sqlite_import.MERGE_ROWS, sqlite_import.MERGE_PAUSE_S = 20_000, 0.0      # many write steps
store = open_store(sys.argv[1])
# SQLite's own memory (page caches and the sorter) capped for the whole import (the cap, process-wide,
# can only be lowered: hence this child process)
sqlite3.connect(":memory:").execute("PRAGMA hard_heap_limit=8000000")
s = import_files(store, [sys.argv[2]], name="shuffled")
print(s.dataset_id, s.n_interactions, s.duplicates)
"""


def test_a_shuffled_file_is_stored_exactly_inserted_in_key_order_in_bounded_memory(store, tmp_path):
    """400k rows imported with SQLite's memory capped at 8 MB: sorting them in memory would take more (with
    PRAGMA temp_store=MEMORY, or a page cache large enough for an in-memory sort, this import fails with
    MemoryError), so the sorter spills sorted runs to temporary files and merges them."""
    path = tmp_path / "shuffled.csv"
    rows = _shuffled_file(path, 400_000)
    root = Path(__file__).resolve().parents[2]
    p = subprocess.run([sys.executable, "-c", BOUNDED_IMPORT, store.engine.url.database, str(path)],
                       capture_output=True, text=True, cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    assert p.returncode == 0, p.stderr[-2000:]
    ds_id, n, dups = map(int, p.stdout.split())
    latest = _expected(rows)
    assert n == len(latest) and dups == len(rows) - len(latest)
    users, items, stored = _stored(store, ds_id)
    assert users == list(dict.fromkeys(u for u, _, _, _ in rows))      # ids by first appearance in the file
    assert items == list(dict.fromkeys(i for _, i, _, _ in rows))
    keys = [(u, i) for u, i, _, _ in stored]
    assert keys == sorted(keys)          # inserted in key order across all write steps, not per step
    assert {(users[u], items[i]): (r, t) for u, i, r, t in stored} == latest


def test_ties_are_settled_by_file_order_across_the_whole_file(store, tmp_path, monkeypatch):
    """The same (user, item, timestamp) at both ends of the file, with other rows between them: the later
    row wins however far apart the two are (the sort keeps the file order among equal keys)."""
    monkeypatch.setattr(sqlite_import, "MERGE_ROWS", 7)
    monkeypatch.setattr(sqlite_import, "MERGE_PAUSE_S", 0.0)
    filler = "".join(f"u{k % 13},i{k % 17},3,{k}\n" for k in range(200))
    path = tmp_path / "ties.csv"
    path.write_text("user,item,rating,timestamp\nu5,i5,1,999\n" + filler + "u5,i5,4.5,999\nu5,i5,2,998\n")
    s = import_files(store, [path], name="ties")
    users, items, stored = _stored(store, s.dataset_id)
    got = {(users[u], items[i]): (r, t) for u, i, r, t in stored}
    assert got[("u5", "i5")] == (4.5, 999)


@pytest.mark.parametrize("when", ["sorting", "writing"])
def test_a_cancel_while_sorting_or_between_write_steps_leaves_the_database_as_it_was(store, tmp_path, monkeypatch,
                                                                                  when):
    monkeypatch.setattr(sqlite_import, "MERGE_ROWS", 5_000)
    monkeypatch.setattr(sqlite_import, "MERGE_PAUSE_S", 0.0)
    path = tmp_path / "r.csv"
    rows = _shuffled_file(path, 60_000)
    import_files(store, [path], name="before")
    before = db_dump(store)
    token, seen = CancelToken(), []

    def progress(u):
        seen.append(u.stage)
        if u.stage == when and (when == "sorting" or seen.count("writing") == 3):
            token.cancel()          # "sorting" is reported just before the sort statement: it is interrupted

    with pytest.raises(CancelledError):
        import_files(store, [path], name="cancelled", progress=progress, cancel=token)
    assert when in seen and db_dump(store) == before
    s = import_files(store, [path], name="after")           # no temporary table left in the way
    assert s.n_interactions == len(_expected(rows))
