"""The import's write half on PostgreSQL: one transaction, the interactions streamed with binary COPY
into a staging table and merged with one INSERT … SELECT DISTINCT ON (engine.store.bulk).

SQLite's importer (engine.ingest.sqlite_import) publishes in short write steps because SQLite has one writer at a
time; PostgreSQL's MVCC lets other sessions read and write throughout, and nobody sees the dataset
before the commit, so one transaction is all it needs. A cancel or an error rolls everything back."""
from __future__ import annotations

import time

from engine.errors import EngineError
from engine.ingest.detected import DetectedFormat
from engine.ingest.items import ItemTable
from engine.ingest.scales import rating_scale
from engine.ingest.staging import (
    IMPORTING,
    ITEM_COLUMNS,
    ImportProgress,
    ImportSummary,
    item_rows,
    stage_interactions,
    user_rows,
)
from engine.jobs.cancel import check
from engine.store import repository as repo
from engine.store.bulk import bulk_writer
from engine.store.ownership import process_mark
from engine.store.schema import DatasetRow


def write_postgres(store, s, det: DetectedFormat, name: str, items: ItemTable | None, parser,
                   report, cancel, t0: float, dry_run: bool, tag_rows: int, staging: bool = False) -> ImportSummary:
    """The import's write half on PostgreSQL, in the caller's one transaction (`s`)."""
    stored_name = name
    if repo.dataset_exists(s, name):
        if not dry_run:
            raise EngineError(f"a dataset named {name!r} already exists; choose another name")
        stored_name = f"{name} (dry run {time.time_ns()})"   # rolled back at the end anyway
    source = {"files": det.paths, "format": det.name, "mapping": det.mapping.to_dict(),
              "on_unknown_item": parser.on_unknown}
    if staging:   # hidden until engine.ingest.append merges it; a tidy-up removes it if this process dies
        source[IMPORTING] = process_mark()
    ds_id = repo.create_dataset(s, stored_name, source=source, rating_min=None, rating_max=None, positive_threshold=None)
    bulk = bulk_writer(s, cancel)
    bulk.start_stage()
    path = det.interactions.path
    staged, total = stage_interactions(det, parser, bulk.stage, report, cancel)
    report(ImportProgress("writing", parser.rows_read, total, total, path))
    n_inter = bulk.merge(ds_id)
    enc = det.interactions.encoding
    bulk.insert("users", ("dataset_id", "idx", "external_id"), user_rows(ds_id, parser, enc))
    bulk.insert("items", ITEM_COLUMNS, item_rows(ds_id, parser, items, enc))
    n_items = len(items.ids) if items is not None else len(parser.imap)
    bulk.close()
    check(cancel)
    rmin, rmax, thr = rating_scale(det, parser.rmin, parser.rmax)
    row = s.get(DatasetRow, ds_id)
    row.rating_min, row.rating_max, row.positive_threshold = rmin, rmax, thr
    row.genres_label = det.mapping.genres_label if det.mapping.genre_columns or det.mapping.genre_flags else None
    seconds = time.perf_counter() - t0
    skipped = dict(parser.skipped)
    import_report = {"skipped": skipped, "duplicates": staged - n_inter, "rows_read": parser.rows_read,
                     "seconds": round(seconds, 3), "format": det.name}
    if items is not None:
        import_report["duplicate_item_rows"] = items.duplicates
    if tag_rows:
        import_report["tag_rows"] = tag_rows
    repo.update_dataset_counts(s, ds_id, n_users=len(parser.umap), n_items=n_items, n_interactions=n_inter,
                               import_report=import_report)
    return ImportSummary(dataset_id=None if dry_run else ds_id, name=name, format=det.name,
                         n_users=len(parser.umap), n_items=n_items, n_interactions=n_inter, skipped=skipped,
                         duplicates=staged - n_inter, seconds=seconds, rows_read=parser.rows_read,
                         rating_min=rmin, rating_max=rmax, positive_threshold=thr, dry_run=dry_run)
