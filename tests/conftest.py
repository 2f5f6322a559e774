"""Shared fixtures: a real SQLite file under tmp_path, the same tests on a real PostgreSQL server
(`any_store`), the demo dataset, paths to shared data."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def store(tmp_path):
    from engine.store import open_store
    s = open_store(str(tmp_path / "test.db"))
    yield s
    s.close()


def postgres_server_url() -> str:
    """The test server's URL (.ci/run starts one and sets LLMREC_TEST_PG_URL). Without one the
    PostgreSQL tests fail with the reason in CI (or when .ci/run could not start it), and skip with
    the reason only on a developer's machine."""
    url = os.environ.get("LLMREC_TEST_PG_URL")
    if url:
        return url
    why = os.environ.get("LLMREC_TEST_PG_ERROR")
    if why or os.environ.get("CI"):
        pytest.fail(f"the PostgreSQL tests cannot run: {why or 'LLMREC_TEST_PG_URL is not set'} "
                    "(.ci/run starts a throw-away server)", pytrace=False)
    pytest.skip("no PostgreSQL test server: run `bash .ci/run`, or set LLMREC_TEST_PG_URL to a server URL")


@contextlib.contextmanager
def fresh_postgres_database():
    """The URL of a fresh, empty database on the test server, dropped afterwards."""
    import uuid

    import sqlalchemy as sa
    server = sa.engine.make_url(postgres_server_url())
    name = f"llmrec_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield server.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture
def postgres_url():
    """A fresh, empty database on the test server, dropped afterwards."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """The same test on an SQLite file and on a PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "test.db")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def any_store(db_url, tmp_path):
    from engine.store import open_store
    s = open_store(db_url, artifacts=None if "://" not in db_url else tmp_path / "artifacts")
    yield s
    s.close()


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory):
    """One database with the full demo dataset, shared by the tests that only read it."""
    from engine.data.demo import create_demo_dataset
    from engine.store import open_store
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
    """The database's whole content as SQL lines (SQLite) or sorted rows per table (any other
    database): equal dumps mean an unchanged database."""
    if not store.is_sqlite:
        import sqlalchemy as sa
        meta = sa.MetaData()
        meta.reflect(store.engine)
        with store.engine.connect() as c:
            return [f"{t.name}: {row}" for t in meta.sorted_tables
                    for row in sorted(map(repr, c.execute(sa.select(t)).all()))]
    import sqlite3
    con = sqlite3.connect(store.engine.url.database)
    try:
        return list(con.iterdump())
    finally:
        con.close()
