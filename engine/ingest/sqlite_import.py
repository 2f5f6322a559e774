"""The import's write half on SQLite: the parsed rows are staged into a TEMP table while holding no
lock on the database, sorted into key order by SQLite's own external sort, then written into the keyed
interactions table in short write steps (MERGE_ROWS each) so that other programs can write between
them; repeated (user, item) events collapse to the latest. The dataset stays hidden until its last
step. engine.ingest.postgres_import is the same half on PostgreSQL."""
from __future__ import annotations

import sqlite3
import time
from itertools import repeat

from engine.errors import CancelledError, EngineError
from engine.ingest.detected import DetectedFormat
from engine.ingest.interactions import InteractionParser
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
from engine.store.db import begin_write
from engine.store.ownership import process_mark
from engine.store.schema import DatasetRow

STAGE_SQL = "CREATE TEMP TABLE llmrec_stage (u INTEGER, i INTEGER, r REAL, t INTEGER)"
# The staged rows in key order (user, item, then file order, which the upsert below relies on for ties),
# by SQLite's own external merge sort; the sorted copy's rowid is then the position in key order.
SORT_SQL = "CREATE TEMP TABLE llmrec_sorted AS SELECT u, i, r, t FROM temp.llmrec_stage ORDER BY u, i, rowid"
MERGE_SQL = ("INSERT INTO interactions (dataset_id, user_idx, item_idx, rating, timestamp) "
             "SELECT ?, u, i, r, t FROM temp.llmrec_sorted WHERE rowid > ? AND rowid <= ? "
             "ON CONFLICT(dataset_id, user_idx, item_idx) DO UPDATE SET rating = excluded.rating, "
             "timestamp = excluded.timestamp "
             "WHERE excluded.timestamp IS NULL OR excluded.timestamp >= interactions.timestamp")


# interactions written per short write transaction: in key order a step of 200k rows holds the lock for
# less time than 50k unsorted rows did (2M-row shuffled file: median step 0.18 s vs 0.29 s)
MERGE_ROWS = 200_000
MERGE_PAUSE_S = 0.05        # between two of them: other writers get the lock (SQLite's lock is not fair)


def _interruptible(raw, cancel):
    """Let `cancel` interrupt a long SQLite statement (checked every 200k virtual machine steps)."""
    if cancel is not None:
        raw.set_progress_handler(lambda: 1 if cancel.cancelled else 0, 200_000)


def _sort_staged(raw, cur, cancel) -> None:
    """Copy the staged rows into key order before the keyed insert. SQLite inserts fastest in key order:
    the insert then appends at the end of the B-tree instead of landing all over the file, which at 25M
    random keys no longer fits the page cache (sorting each write step alone reached 0.72x of the sqlite3
    shell's .import there). SQLite's sorter keeps memory bounded at any size: it sorts runs of about the
    page cache's size in memory, writes them to temporary files and merges them. Holds no lock on the
    database (only the TEMP database is written)."""
    cur.execute("DROP TABLE IF EXISTS temp.llmrec_sorted")
    _interruptible(raw, cancel)
    try:
        cur.execute(SORT_SQL)
    except sqlite3.OperationalError as exc:
        if cancel is not None and cancel.cancelled:
            raise CancelledError() from None
        raise EngineError(f"sorting the interactions failed: {exc}") from exc
    finally:
        raw.set_progress_handler(None, 0)
    check(cancel)
    cur.execute("DROP TABLE temp.llmrec_stage")
    raw.commit()


def _drop_temp(cur) -> None:
    for table in ("llmrec_stage", "llmrec_sorted"):
        cur.execute(f"DROP TABLE IF EXISTS temp.{table}")


def _publish(store, s, raw, cur, ds_id: int, staged: int, parser, items, enc: str, report, wait, cancel,
             where: tuple) -> int:
    """2. the sorted interactions in short write transactions (MERGE_ROWS each, in key order),
    3. users and items; returns the number of interactions. Other writers wait at most one step."""
    rows_read, total, path = where
    _interruptible(raw, cancel)
    try:
        for lo in range(0, staged, MERGE_ROWS):
            check(cancel)
            begin_write(raw, cancel=cancel, progress=wait, where=str(store.display_name))
            try:
                cur.execute(MERGE_SQL, (ds_id, lo, lo + MERGE_ROWS))
            except sqlite3.OperationalError as exc:
                if cancel is not None and cancel.cancelled:
                    raise CancelledError() from None
                raise EngineError(f"writing the interactions failed: {exc}") from exc
            raw.commit()
            report(ImportProgress("writing", rows_read, min(staged, lo + MERGE_ROWS), staged, path))
            time.sleep(MERGE_PAUSE_S)
    finally:
        raw.set_progress_handler(None, 0)
    cur.execute("DROP TABLE temp.llmrec_sorted")
    begin_write(raw, cancel=cancel, progress=wait, where=str(store.display_name))
    n_inter = cur.execute("SELECT COUNT(*) FROM interactions WHERE dataset_id = ?", (ds_id,)).fetchone()[0]
    cur.executemany("INSERT INTO users (dataset_id, idx, external_id) VALUES (?, ?, ?)",
                    user_rows(ds_id, parser, enc))
    cur.executemany(f"INSERT INTO items ({', '.join(ITEM_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)",
                    item_rows(ds_id, parser, items, enc))
    raw.commit()
    check(cancel)
    return n_inter


def discard_dataset(store, raw, ds_id: int) -> None:
    """Remove a dataset that was not finished (its rows cascade), waiting for the lock if need be."""
    begin_write(raw, where=str(store.display_name))
    raw.execute("DELETE FROM datasets WHERE id = ?", (ds_id,))
    raw.commit()


def write_sqlite(store, s, det: DetectedFormat, name: str, items: ItemTable | None, parser: InteractionParser,
                 report, cancel, t0: float, dry_run: bool, tag_rows: int, staging: bool) -> ImportSummary:
    """The import's write half on SQLite, in the caller's session `s` (see the module docstring)."""
    # The long part (reading, parsing, staging into a TEMP table) holds no lock on the database:
    # other programs keep writing meanwhile. Only the final merge takes the write lock (issue 8).
    raw = s.connection().connection.driver_connection
    cur = raw.cursor()
    _drop_temp(cur)
    cur.execute(STAGE_SQL)
    path = det.interactions.path

    def stage(uidx, iidx, ratings, times) -> None:
        cur.executemany("INSERT INTO temp.llmrec_stage (u, i, r, t) VALUES (?, ?, ?, ?)",
                        zip(uidx, iidx, ratings if ratings is not None else repeat(None),
                            times if times is not None else repeat(None)))

    staged, total = stage_interactions(det, parser, stage, report, cancel)
    raw.commit()   # ends the staging transaction, which touched only the TEMP database
    if repo.dataset_exists(s, name) and not dry_run:
        raise EngineError(f"a dataset named {name!r} already exists; choose another name")
    enc = det.interactions.encoding
    n_items = len(items.ids) if items is not None else len(parser.imap)
    rmin, rmax, thr = rating_scale(det, parser.rmin, parser.rmax)
    if dry_run:   # everything is known from the staged rows: no write, no lock
        n_inter = cur.execute("SELECT COUNT(*) FROM (SELECT DISTINCT u, i FROM temp.llmrec_stage)").fetchone()[0]
        cur.execute("DROP TABLE temp.llmrec_stage")
        ds_id = None
    else:
        source = {"files": det.paths, "format": det.name, "mapping": det.mapping.to_dict(),
                  "on_unknown_item": parser.on_unknown}

        def wait(_u):
            report(ImportProgress("waiting for the database", parser.rows_read, total, total, path))

        report(ImportProgress("sorting", parser.rows_read, 0, staged, path))
        try:
            _sort_staged(raw, cur, cancel)
        except BaseException:
            _drop_temp(cur)
            raise

        # 1. the dataset row, hidden (source["importing"]) until the last step makes it visible
        begin_write(raw, cancel=cancel, progress=wait, where=str(store.display_name))
        if repo.dataset_exists(s, name):
            raise EngineError(f"a dataset named {name!r} already exists; choose another name")
        ds_id = repo.create_dataset(s, name, source={**source, IMPORTING: process_mark()}, rating_min=None,
                                    rating_max=None, positive_threshold=None)
        s.flush()
        raw.commit()
        try:
            n_inter = _publish(store, s, raw, cur, ds_id, staged, parser, items, enc, report, wait, cancel,
                               (parser.rows_read, total, path))
            import_report = {"skipped": dict(parser.skipped), "duplicates": staged - n_inter,
                             "rows_read": parser.rows_read, "seconds": round(time.perf_counter() - t0, 3),
                             "format": det.name}
            if items is not None:
                import_report["duplicate_item_rows"] = items.duplicates
            if tag_rows:
                import_report["tag_rows"] = tag_rows
            begin_write(raw, cancel=cancel, progress=wait, where=str(store.display_name))
            row = s.get(DatasetRow, ds_id)   # 4. complete and visible, in one short step
            row.rating_min, row.rating_max, row.positive_threshold = rmin, rmax, thr
            row.genres_label = (det.mapping.genres_label if det.mapping.genre_columns or det.mapping.genre_flags
                                else None)
            row.source = {**source, IMPORTING: process_mark()} if staging else source
            repo.update_dataset_counts(s, ds_id, n_users=len(parser.umap), n_items=n_items,
                                       n_interactions=n_inter, import_report=import_report)
            s.flush()
            raw.commit()
        except BaseException:
            raw.rollback()
            discard_dataset(store, raw, ds_id)
            _drop_temp(cur)
            raise
    cur.close()
    seconds = time.perf_counter() - t0
    skipped = dict(parser.skipped)
    return ImportSummary(dataset_id=ds_id, name=name, format=det.name,
                         n_users=len(parser.umap), n_items=n_items, n_interactions=n_inter, skipped=skipped,
                         duplicates=staged - n_inter, seconds=seconds, rows_read=parser.rows_read,
                         rating_min=rmin, rating_max=rmax, positive_threshold=thr, dry_run=dry_run)
