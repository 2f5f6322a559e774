"""Who owns a folder in the artifacts folder. Several databases may share one artifacts folder (a team
on PostgreSQL passes `--artifacts DIR`; two SQLite files given the same `LLMREC_ARTIFACTS`), so a
folder that this database does not reference may well be another database's model. A model folder
records its owner (OWNER_FILE: the database's identity from migration 0006, and for SQLite the file's
path, so a copied database file does not pass for the original) before any model bytes are written;
a tidy-up removes only folders that name the database doing it. Caches (embeddings, exported examples,
counts) live in a sub-folder per database for the same reason: one database's pruning or rewriting
never touches another's."""
from __future__ import annotations

import json
import os
import socket
import time
import uuid
from pathlib import Path
from typing import Any  # a Store or the app's StoreProcess handle: both have these facts

OWNER_FILE = ".llmrec-owner.json"


def _database(store: Any) -> str:
    """What names the database besides its id: the SQLite file's path, or the server URL (no password)."""
    name = str(store.display_name)
    return os.path.realpath(name) if store.is_sqlite else name


def claim(folder: Path, store: Any) -> None:
    """Record `store` as the owner of `folder` (written whole under a temporary name, then renamed)."""
    record = {"database_id": store.database_id, "database": _database(store), "sqlite": bool(store.is_sqlite),
              "written": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    tmp = Path(folder) / f".{OWNER_FILE}.{uuid.uuid4().hex[:8]}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(record, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, Path(folder) / OWNER_FILE)


def owner_of(folder: Path) -> dict | None:
    """The owner record of `folder`; None when it has none or it cannot be read."""
    try:
        with open(Path(folder) / OWNER_FILE, encoding="utf-8") as f:
            record = json.load(f)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and isinstance(record.get("database_id"), str) else None


def is_own(folder: Path, store: Any) -> bool:
    """True only when `folder` names this database: its id and, for SQLite, its file."""
    record = owner_of(folder)
    if record is None or record["database_id"] != store.database_id:
        return False
    return not store.is_sqlite or record.get("database") == _database(store)


def why_not_own(folder: Path, store: Any) -> str:
    """Why `folder` is left alone, for `llmrec doctor`'s report."""
    record = owner_of(folder)
    if record is None:
        return "it records no owner (written by an older llmrec or by hand)"
    if record["database_id"] != store.database_id:
        return f"it belongs to another database ({record.get('database', 'unknown')})"
    return (f"it was written by a copy of this database at {record.get('database', 'unknown')} "
            "(same identity, another file)")


def database_folder(store: Any, kind: str) -> Path:
    """`<artifacts>/<kind>/db-<identity>`: this database's own cache folder of `kind` (embeddings,
    examples, counts); nothing outside it is ever pruned on this database's behalf."""
    return Path(store.artifact_root) / kind / f"db-{store.database_id}"


# ---- unfinished imports: a hidden dataset names the process writing it ---------------------------

def _process_start(pid: int) -> str | None:
    """The kernel's start time of `pid` (Linux /proc; None elsewhere): tells a reused pid apart."""
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError, ValueError):
        return None


def process_mark() -> dict:
    """What a dataset still being written records about its writer: this process, its start time and
    its machine (a shared PostgreSQL store is written from several machines)."""
    return {"pid": os.getpid(), "started": _process_start(os.getpid()), "host": socket.gethostname()}


def writer_gone(mark: object) -> str | None:
    """Why the writer named by `mark` is provably gone (so its hidden dataset is a leftover), or None
    when it may still run: on another machine a pid proves nothing, so such a dataset is left alone.
    A bare pid is the mark of an older llmrec (a local process)."""
    if isinstance(mark, bool) or not isinstance(mark, (int, dict)):
        return None
    if isinstance(mark, int):
        mark = {"pid": mark, "host": socket.gethostname(), "started": None}
    pid = mark.get("pid")
    if mark.get("host") != socket.gethostname() or not isinstance(pid, int):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "its process has exited"
    except OSError:      # alive, owned by another user
        return None
    started = mark.get("started")
    if started is not None and _process_start(pid) not in (None, started):
        return "its process has exited (the pid now belongs to another process)"
    return None
