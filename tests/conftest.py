"""Shared fixtures: a real SQLite file under tmp_path, the demo dataset, paths to shared data."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def store(tmp_path):
    from engine.storage import open_store
    s = open_store(str(tmp_path / "test.db"))
    yield s
    s.close()


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory):
    """One database with the full demo dataset, shared by the tests that only read it."""
    from engine.data.demo import create_demo_dataset
    from engine.storage import open_store
    s = open_store(str(tmp_path_factory.mktemp("demo") / "demo.db"))
    create_demo_dataset(s)
    yield s
    s.close()


def shared_data_or_skip(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (real-data tests need ../shared/data beside the project)")
    return path


def db_dump(store) -> list[str]:
    """The database's whole content as SQL lines: equal dumps mean an unchanged database."""
    import sqlite3
    con = sqlite3.connect(store.engine.url.database)
    try:
        return list(con.iterdump())
    finally:
        con.close()
