"""Saving a run: files written to a temporary folder that records its owner, renamed into place, then the
run registered in one transaction; tidying what a killed save left (only this database's own folders)."""
from __future__ import annotations

import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from engine.data.dataset import Dataset
from engine.models.base import Recommender
from engine.runs.loaded import check_model_files
from engine.store import Store
from engine.store import repository as repo
from engine.store.ownership import claim, is_own, why_not_own

RUNS_DIR = "runs"


def save_and_register(store: Store, *, dataset: Dataset, model: Recommender, objective: str | None, config: dict,
                      holdout: bool, device: str | None, device_name: str | None, seconds: float | None,
                      metrics: dict, epochs: list[dict] | None, progress=None, cancel=None,
                      also_write=None) -> int:
    """Write the model's files to a temp folder, rename it into place, then register the run in one
    transaction; on any failure nothing is left behind. `also_write(folder)`: more files of the run
    (an ANN index), written into the same temp folder, so the run is never registered without them. Returns the run id. While another program
    writes to the database, it waits (reporting progress) instead of throwing the finished model away."""
    root = Path(store.artifact_root) / RUNS_DIR
    root.mkdir(parents=True, exist_ok=True)
    token = f"{model.name}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
    tmp = root / f".tmp-{token}"
    final = root / token
    config = dict(config)
    config.setdefault("positive_threshold", dataset.positive_threshold)
    tmp.mkdir()
    owner = _own(tmp)   # held until the run is registered: cleanup never touches a folder in use
    try:
        claim(tmp, store)   # before any model bytes: a tidy-up removes only its own database's folders
        model.save(tmp)
        if also_write is not None:
            also_write(tmp)
        check_model_files(tmp)
        tmp.rename(final)
        with store.write_session(progress=progress, cancel=cancel) as s:
            return repo.register_run(s, dataset_id=dataset.info.id, model=model.name, objective=objective,
                                     config=config, holdout=holdout, device=device, device_name=device_name,
                                     seconds=seconds, metrics=metrics, artifact_dir=f"{RUNS_DIR}/{token}",
                                     epochs=epochs or [])
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(final, ignore_errors=True)
        raise
    finally:
        _release(owner)


# ---- model files: validation and leftovers -------------------------------------------------------

def _own(folder: Path):
    """An exclusive lock on `folder` for as long as this process holds it (released by the kernel if
    the process dies): how cleanup tells a folder being written from a leftover. POSIX only."""
    try:
        import fcntl
    except ImportError:   # no flock: cleanup then only removes old leftovers
        return None
    fd = os.open(folder, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _try_own(folder: Path):
    try:
        import fcntl
    except ImportError:
        return "unlocked" if time.time() - folder.stat().st_mtime > 86400 else None
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except OSError:
        os.close(fd)
        return None


def _release(fd) -> None:
    if isinstance(fd, int):
        os.close(fd)


@dataclass(frozen=True)
class Leftovers:
    """What a tidy-up of the runs folder did: folders removed, and unreferenced folders it left alone
    because it cannot prove they are its own (name, why)."""
    removed: list[str]
    kept: list[tuple[str, str]]


def clean_leftovers(store: Store, *, min_age_s: float = 60.0) -> Leftovers:
    """Remove what a killed save of THIS database left under the runs folder: `.tmp-*` folders and
    complete folders that no run references (killed between the rename and the registration). Only a
    folder whose owner record names this database is removed (engine.store.ownership): the artifacts folder
    may be shared with other databases, whose runs this one does not reference. A folder whose writer
    still runs is locked by it and skipped, and so is one younger than `min_age_s` (a save that has
    just made its folder and not yet written its owner record); a folder is removed only after a
    second look at the runs table under its lock."""
    root = Path(store.artifact_root) / RUNS_DIR
    if not root.is_dir():
        return Leftovers([], [])

    def referenced() -> set[str]:
        with store.session() as s:
            return {Path(r.artifact_dir or "").name for r in repo.list_runs(s)}

    used = referenced()
    removed, kept = [], []
    for folder in sorted(root.iterdir()):
        if not folder.is_dir() or folder.name in used:
            continue
        try:
            if time.time() - folder.stat().st_mtime < min_age_s:
                continue
        except OSError:
            continue
        if not is_own(folder, store):
            kept.append((folder.name, why_not_own(folder, store)))
            continue
        fd = _try_own(folder)
        if fd is None:
            continue       # in use by a running save
        try:
            if folder.name.startswith(".tmp-") or folder.name not in referenced():
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder.name)
        finally:
            _release(fd)
    return Leftovers(removed, kept)
