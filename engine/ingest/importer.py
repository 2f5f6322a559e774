"""Importing files as a new dataset, all or nothing: detect the format (or take the wizard's), read
the item file, parse the interactions and hand them to the store's write path (engine.ingest.sqlite_import
or engine.ingest.postgres_import); progress and cancel between chunks. Nothing is visible unless the
whole import succeeds. Also the tidy-up of datasets left hidden by an import that was killed."""
from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from sqlalchemy import select

from engine.errors import EngineError, InputError
from engine.ingest.detected import DetectedFormat
from engine.ingest.formats import detect_format, with_mapping
from engine.ingest.interactions import InteractionParser
from engine.ingest.items import fold_tags, read_items
from engine.ingest.mapping import Mapping
from engine.ingest.postgres_import import write_postgres
from engine.ingest.sqlite_import import write_sqlite
from engine.ingest.staging import IMPORTING, ImportProgress, ImportSummary
from engine.jobs.cancel import CancelToken
from engine.store import Store
from engine.store import repository as repo
from engine.store.ownership import writer_gone
from engine.store.schema import DatasetRow


class _DryRun(Exception):
    """Raised inside the transaction of a dry run so that everything is rolled back."""


def _valid_text(text: str) -> str:
    """A name from a file name that is not valid UTF-8 (undecodable bytes become U+FFFD)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def default_name(det: DetectedFormat) -> str:
    p = Path(det.interactions.path)
    if det.name != "csv" or p.stem.lower() in ("ratings", "u", "interactions", "data"):
        return p.resolve().parent.name or p.stem
    stem = p.name[:-3] if p.name.endswith(".gz") else p.name
    return Path(stem).stem


@dataclass(frozen=True)
class ImportLeftovers:
    removed: list[str]                  # hidden datasets whose writer is provably gone
    kept: list[tuple[str, str]]         # (name, why): hidden datasets another machine may still write


def clean_abandoned_imports(store) -> ImportLeftovers:
    """Datasets left hidden by an import or an append that was killed: removed when their writer is
    provably gone (engine.store.ownership.writer_gone); one written from another machine is left alone."""
    gone, kept = [], []
    with store.session() as s:
        for row in s.scalars(select(DatasetRow)):
            source = row.source or {}
            if IMPORTING not in source:
                continue
            if writer_gone(source[IMPORTING]) is not None:
                gone.append((row.id, row.name))
            elif isinstance(source[IMPORTING], dict) and source[IMPORTING].get("host") != socket.gethostname():
                kept.append((row.name, f"being written from {source[IMPORTING].get('host')}, or left there"))
    for ds_id, _name in gone:
        with store.write_session() as s:
            repo.delete_dataset(s, ds_id)
    return ImportLeftovers([name for _, name in gone], kept)


def import_files(store: Store, paths: Sequence[str | os.PathLike], *, name: str | None = None,
                 format: str = "auto", mapping: Mapping | dict | None = None, on_unknown_item: str = "error",
                 progress: Callable[[ImportProgress], None] | None = None, cancel: CancelToken | None = None,
                 dry_run: bool = False, detected: DetectedFormat | None = None, staging: bool = False) -> ImportSummary:
    """Import an interactions file (and optionally an item file, and MovieLens tags) as a new dataset.
    All or nothing: any error or a cancel leaves the database as it was; `dry_run` validates the whole
    input and reports what would be imported, then rolls back. `staging`: the dataset stays hidden (and
    is removed by the next tidy-up if this process dies) until the caller merges it (engine.ingest.append)."""
    t0 = time.perf_counter()
    if on_unknown_item not in ("error", "drop"):
        raise InputError(f"on_unknown_item must be 'error' or 'drop', not {on_unknown_item!r}")
    det = with_mapping(detected or detect_format(paths, format), mapping)
    name = _valid_text(name or default_name(det)).strip()
    if not name:
        raise InputError("the dataset name is empty")
    with store.session() as s:
        if repo.dataset_exists(s, name) and not dry_run:
            raise EngineError(f"a dataset named {name!r} already exists; choose another name")
    report = progress or (lambda _u: None)
    items = None
    tag_rows = 0
    if det.items is not None:
        report(ImportProgress("items", 0, 0, 0, det.items.path))
        items = read_items(det.items, det.mapping, cancel)
        if det.tags is not None:
            tag_rows = fold_tags(items, det.tags, cancel)
    parser = InteractionParser(det, items, on_unknown_item)
    try:
        with store.session() as s:
            # SQLite: short write steps; PostgreSQL: COPY in one transaction (its MVCC needs no short steps)
            write = write_sqlite if store.is_sqlite else write_postgres
            summary = write(store, s, det, name, items, parser, report, cancel, t0, dry_run, tag_rows, staging)
            if dry_run:
                raise _DryRun()
    except _DryRun:
        pass
    report(ImportProgress("done", summary.rows_read, 1, 1, det.interactions.path))
    return summary
