"""The store: migrations on open, refusal of newer databases, the demo dataset round trip,
and the rule that the engine never needs Qt."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from engine.errors import DatabaseVersionError, NotFoundError
from engine.store import open_store
from engine.store import repository as repo


def test_open_creates_schema_with_wal_and_foreign_keys(tmp_path):
    path = tmp_path / "a.db"
    s = open_store(str(path))
    with s.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    s.close()
    tables = {r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"datasets", "users", "items", "interactions", "runs", "run_epochs", "feedback", "alembic_version"} <= tables


def test_database_from_newer_llmrec_is_refused(tmp_path):
    path = tmp_path / "new.db"
    open_store(str(path)).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE alembic_version SET version_num='9999_future'")
    con.commit()
    con.close()
    with pytest.raises(DatabaseVersionError, match="newer llmrec"):
        open_store(str(path))


def test_demo_dataset_round_trip(store):
    from engine.data.dataset import load_dataset
    from engine.data.demo import create_demo_dataset
    ds_id = create_demo_dataset(store, n_items=200, n_users=100)
    assert create_demo_dataset(store, n_items=200, n_users=100) == ds_id  # idempotent
    d = load_dataset(store, ds_id)
    assert (d.n_users, d.n_items) == (100, 200)
    assert d.n_interactions == d.info.n_interactions > 600
    assert len(set(zip(d.user_idx.tolist(), d.item_idx.tolist()))) == d.n_interactions
    assert set(np.unique(d.rating)) <= {1, 2, 3, 4, 5}
    assert all(d.genres[i] for i in range(d.n_items)) and d.titles[0].endswith(")")
    # the generator is deterministic
    again = load_dataset(store, ds_id)
    assert np.array_equal(again.item_idx, d.item_idx)
    with store.session() as s:
        assert [x.name for x in repo.list_datasets(s)] == ["Demo movies"]
        with pytest.raises(NotFoundError):
            repo.get_dataset(s, "nope")


def test_engine_imports_with_qt_unavailable():
    code = textwrap.dedent("""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split('.')[0] in ('PySide6', 'PyQt5', 'PyQt6', 'pyqtgraph', 'superqt', 'llmrec_gui'):
                    raise ImportError('blocked: ' + name)
        sys.meta_path.insert(0, Block())
        import pkgutil, importlib, engine
        for m in pkgutil.walk_packages(engine.__path__, 'engine.'):
            if '.migrations' in m.name:
                continue
            importlib.import_module(m.name)
        assert 'tensorflow' not in sys.modules, 'engine imports TensorFlow eagerly'
        print('ok')
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
