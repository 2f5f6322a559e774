"""Open a database: make the SQLAlchemy engine, set SQLite pragmas, apply Alembic migrations,
refuse a database written by a newer llmrec."""
from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import time as _time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator
from urllib.parse import quote, unquote, urlsplit

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from engine.errors import DatabaseVersionError, EngineError
from engine.jobs.cancel import check
from engine.paths import default_db_url, to_url, user_data_dir
from engine.store import repository as repo
from engine.types import StepProgress

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _alembic_config() -> Config:
    """Alembic is imported here, not at the top: the app's own process imports engine modules but
    never migrates (its store process does), and alembic's import costs ~0.6 s of its start."""
    from alembic.config import Config
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


BUSY_TIMEOUT_MS = 10000     # how long one SQLite statement waits for a lock before "database is locked"
WRITE_WAIT_S = 3600.0       # how long a write (finished work: a run, an import) waits for the write lock
_WAIT_STEP_MS = 500         # one attempt at the write lock; progress and cancel are checked in between


def _set_sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")   # first: the next pragma may wait on a lock
    _switch_to_wal(cur)
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _switch_to_wal(cur) -> None:
    """`PRAGMA journal_mode=WAL`, retried while another connection holds the lock: the switch of a brand-new
    database takes an exclusive lock without calling the busy handler, so processes creating one database
    at once got "database is locked" (about 1 race in 100 on a loaded 2-core machine)."""
    deadline = _time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or _time.monotonic() > deadline:
                raise
            _time.sleep(0.02)


def _set_read_only_pragmas(dbapi_connection, _record) -> None:
    """A read-only file: no journal-mode change (that is a write); a lock wait like any other."""
    cur = dbapi_connection.cursor()
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA query_only=ON")
    cur.close()


def _can_write(path: Path) -> bool:
    """Whether this process may write `path` (a file or a folder): os.access, and for a folder on a
    read-only mount, the mount's flag (root passes os.access everywhere but there)."""
    if not os.access(path, os.W_OK):
        return False
    try:
        return not (os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return True


def sqlite_file(database: str | None) -> str | None:
    """The file an SQLite URL's database part names: a plain path, or the path of a `file:` URI."""
    if not database or database == ":memory:":
        return None
    if not database.startswith("file:"):
        return database
    return unquote(urlsplit(database).path)


def read_only_url(path: Path) -> str | None:
    """An existing SQLite file this process cannot write, as a read-only SQLite URI (None when it can
    write it): `mode=ro` when only the file is read-only (the WAL's shared-memory file can still be
    made beside it), `immutable=1` when its folder or mount is read-only too (nothing can be written
    there, so no other program is changing it either). Read-only commands then work; writing ones
    are refused before they start (engine.cli.main)."""
    if not path.is_file():
        return None
    folder_ok, file_ok = _can_write(path.parent), _can_write(path)
    if folder_ok and file_ok:
        return None
    return f"sqlite:///file:{quote(str(path))}?{'mode=ro' if folder_ok else 'immutable=1'}&uri=true"


def _is_busy(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "database is locked" in text or "database is busy" in text or "database table is locked" in text


def begin_write(dbapi_connection, *, progress=None, cancel=None, wait_s: float | None = None,
                where: str = "the database") -> None:
    """SQLite: take the write lock now (BEGIN IMMEDIATE), waiting as long as another writer holds it
    (up to `wait_s`), reporting a WaitingForDatabase progress update and honouring `cancel` every
    half second. Once this returns, the transaction's writes never fail with "database is locked",
    so finished work is never thrown away because someone else was writing."""
    wait_s = WRITE_WAIT_S if wait_s is None else wait_s
    start = _time.monotonic()
    cur = dbapi_connection.cursor()
    try:
        cur.execute(f"PRAGMA busy_timeout={_WAIT_STEP_MS}")
        while True:
            try:
                cur.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
            waited = _time.monotonic() - start
            if waited >= wait_s:
                raise EngineError(f"{where} stayed busy for {waited:.0f} s (another program is writing to it); "
                                  "nothing was written: try again when it has finished")
            check(cancel)
            if progress is not None:
                progress(StepProgress(f"waiting for the database (another program is writing), {waited:.0f} s",
                                      0, 0))
    finally:
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.close()


@dataclass
class Store:
    """One database and the folder beside it for model files. Thread-safe to share:
    each unit of work opens its own Session with `session()`."""

    url: str
    engine: Engine
    artifact_root: Path
    _sessions: sessionmaker
    _database_id: str | None = None
    read_only: bool = False      # an SQLite file or folder this process cannot write (read_only_url)

    @contextlib.contextmanager
    def _transaction(self, begin=None) -> Iterator[Session]:
        s = self._sessions()
        try:
            if begin is not None:
                begin(s)
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def session(self) -> contextlib.AbstractContextManager[Session]:
        """One transaction: commit on success, roll back on any error."""
        return self._transaction()

    def call(self, fn, *args, **kwargs):
        """`fn(self, *args, **kwargs)`: the same call a StoreProcess handle runs in its process."""
        return fn(self, *args, **kwargs)

    def write_session(self, *, progress=None, cancel=None) -> contextlib.AbstractContextManager[Session]:
        """One write transaction that starts by taking SQLite's write lock, waiting (with progress, and
        cancellable) while another program writes: use it to save finished work."""
        def lock(s: Session) -> None:
            if self.is_sqlite:
                begin_write(s.connection().connection.driver_connection, progress=progress, cancel=cancel,
                            where=str(self.display_name))
        return self._transaction(lock)

    @property
    def database_id(self) -> str:
        """The identity written once by migration 0006 (engine.store.ownership: who owns a model folder)."""
        if self._database_id is None:
            with self.session() as s:
                self._database_id = repo.database_id(s)
        return self._database_id

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def display_name(self) -> str:
        if self.is_sqlite:
            return sqlite_file(self.engine.url.database) or self.engine.url.database
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()


def _artifact_root(engine: Engine, artifacts: str | os.PathLike | None) -> Path:
    """Model files: `artifacts` (or $LLMREC_ARTIFACTS) when given; beside an SQLite file; for a server
    database, a per-user folder named after the server, which only this machine sees: a team sharing a
    PostgreSQL store passes a shared folder with `--artifacts DIR`."""
    artifacts = artifacts or os.environ.get("LLMREC_ARTIFACTS")
    if artifacts:
        return Path(artifacts).expanduser().resolve()
    if engine.dialect.name == "sqlite" and sqlite_file(engine.url.database):
        db = Path(sqlite_file(engine.url.database))
        return db.with_name(db.name + ".files")
    if engine.dialect.name == "sqlite":
        return user_data_dir() / "files"
    u = engine.url
    key = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{u.get_backend_name()}_{u.host or 'local'}_{u.port or ''}_{u.database}")
    return user_data_dir() / "files" / key


def migrate(engine: Engine, read_only: bool = False) -> None:
    """Bring the schema to head; refuse a database whose revision this llmrec does not know.
    Safe when several processes open a brand-new database at once: on SQLite the check and the
    upgrade run under the write lock (BEGIN IMMEDIATE), on PostgreSQL under a transaction-level
    advisory lock, so the second one waits and finds head."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    script = ScriptDirectory.from_config(_alembic_config())
    known = {rev.revision for rev in script.walk_revisions()}
    head = script.get_current_head()
    with engine.connect() as conn:   # the usual case, a read only: an up-to-date database
        current = MigrationContext.configure(conn).get_current_revision()
    if current == head:
        return
    if read_only:
        raise DatabaseVersionError(f"{engine.url.database}: is read-only and needs an upgrade to this llmrec's "
                                   "schema; open it once where it can be written")
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            begin_write(conn.connection.driver_connection, wait_s=BUSY_TIMEOUT_MS / 1000 * 6,
                        where=str(engine.url.database))
        elif engine.dialect.name == "postgresql":   # the same on PostgreSQL: a lock held to the commit
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7213013)")
        current = MigrationContext.configure(conn).get_current_revision()
        if current is not None and current not in known:
            raise DatabaseVersionError(
                f"{engine.url.database or engine.url}: this database was written by a newer llmrec "
                f"(schema revision {current}); upgrade llmrec to open it")
        if current == head:
            return
        cfg = _alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def open_store(path_or_url: str | None = None, artifacts: str | os.PathLike | None = None) -> Store:
    """Open (creating and migrating as needed) the database at a path or SQLAlchemy URL (SQLite file or
    `postgresql+psycopg://…`); default: `LLMREC_DB` or the user data dir. `artifacts`: the folder for
    model files (default: see `_artifact_root`)."""
    url = to_url(path_or_url) if path_or_url else default_db_url()
    read_only = False
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:" and not url.startswith("sqlite:///file:"):
        # a `file:` URI (e.g. `?mode=ro&uri=true`) names an existing file: never make folders for it
        path = Path(url[len("sqlite:///"):])
        ro = read_only_url(path)
        if ro is not None:
            url, read_only = ro, True
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
    elif url.startswith("sqlite:///file:"):
        read_only = "mode=ro" in url or "immutable=1" in url
    for bare in ("postgresql://", "postgres://"):   # psycopg 3 is the PostgreSQL driver llmrec installs
        if url.startswith(bare):
            url = "postgresql+psycopg://" + url[len(bare):]
    try:
        engine = create_engine(url, pool_pre_ping=not url.startswith("sqlite"))
    except ModuleNotFoundError as exc:
        raise EngineError(f"{exc.name} is not installed: for a PostgreSQL database run "
                          f"pip install -e '.[postgresql]' (psycopg 3)") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _set_read_only_pragmas if read_only else _set_sqlite_pragmas)
    migrate(engine, read_only)
    root = _artifact_root(engine, artifacts)
    return Store(url=url, engine=engine, artifact_root=root,
                 _sessions=sessionmaker(engine, expire_on_commit=False), read_only=read_only)
