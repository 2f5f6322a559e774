"""A run's housekeeping, for the runs table's context menu and `llmrec runs delete|remove-index|export`:
delete a run with its files, remove its ANN index, export its record. Files are removed only from a folder
whose owner record names this database (engine.store.ownership): a run folder of another database sharing
the artifacts folder, or of a copy of this one, is never touched, only reported."""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from engine.errors import EngineError
from engine.retrieval.index import INDEX_FILE, INDEX_META, index_info
from engine.runs.loaded import run_path
from engine.store import repository as repo
from engine.store.ownership import is_own, why_not_own


@dataclass(frozen=True)
class FilesOutcome:
    """What happened to a run's files: removed, or left alone and why."""
    run_id: int
    folder: str | None
    removed: bool
    left_alone: str | None = None      # why the files stay (another database's, none there, …)


def _owned_folder(store, info) -> tuple[Path | None, str | None]:
    """(the run's folder, None) when this database may change it, else (folder or None, why not)."""
    if not info.artifact_dir:
        return None, "the run has no files"
    folder = run_path(store, info)
    if not folder.exists():
        return folder, "its folder is already gone"
    if not is_own(folder, store):
        return folder, why_not_own(folder, store)
    return folder, None


def delete_run(store, run_id: int) -> FilesOutcome:
    """Remove the run's record (its epochs go with it) in one transaction, then its folder when it is this
    database's. A folder left by a failure in between is unreferenced and owned: the next tidy-up removes it."""
    with store.session() as s:
        info = repo.get_run(s, run_id)
    folder, why = _owned_folder(store, info)
    with store.write_session() as s:
        repo.delete_run(s, run_id)
    if why is not None:
        return FilesOutcome(run_id, None if folder is None else str(folder), False, why)
    assert folder is not None
    shutil.rmtree(folder, ignore_errors=True)
    return FilesOutcome(run_id, str(folder), not folder.exists(),
                        None if not folder.exists() else "some files could not be removed (the next tidy-up will)")


def remove_index(store, run_id: int) -> FilesOutcome:
    """Delete the run's ANN index (the run then ranks by exact search again)."""
    with store.session() as s:
        info = repo.get_run(s, run_id)
    folder, why = _owned_folder(store, info)
    if why is None and folder is not None and index_info(folder) is None:
        why = "the run has no ANN index"
    if why is not None:
        return FilesOutcome(run_id, None if folder is None else str(folder), False, why)
    assert folder is not None
    for name in (INDEX_META, INDEX_FILE):     # the meta first: a half-removed index reads as none
        (folder / name).unlink(missing_ok=True)
    return FilesOutcome(run_id, str(folder), True)


def run_record(store, run_id: int) -> dict:
    """Everything known about a run, as plain JSON-able data: its row (settings, metrics), its epochs and
    its index."""
    with store.session() as s:
        info = repo.get_run(s, run_id)
        epochs = repo.run_epochs(s, run_id)
    folder = run_path(store, info) if info.artifact_dir else None
    record = asdict(info)
    record["created_at"] = info.created_at.isoformat() if info.created_at is not None else None
    record["epochs"] = epochs
    record["index"] = index_info(folder) if folder is not None and folder.exists() else None
    return record


def export_run(store, run_id: int, path: str | os.PathLike) -> Path:
    """Write the run's record to `path` as JSON (written aside, then renamed: never a half-written file)."""
    out = Path(path)
    if out.is_dir():
        raise EngineError(f"{out}: is a folder; give a file name for the run's record")
    if not out.parent.exists():
        raise EngineError(f"{out.parent}: no such folder")
    record = run_record(store, run_id)
    tmp = out.with_name(f".{out.name}.part")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(record, f, indent=1, default=str)
    os.replace(tmp, out)
    return out
