"""Bulk loading through the DB-API, one path per dialect: SQLite's `executemany`, PostgreSQL's `COPY`
(psycopg 3 `cursor.copy`), inside the caller's transaction, so a failure or a cancel rolls everything
back. `write_dataset` uses `insert` on both; the PostgreSQL importer also stages and merges here
(SQLite's importer keeps its own short-write-step merge, engine/ingest/sqlite_import.py)."""
from __future__ import annotations

import struct
import threading
from typing import Iterable, Sequence

import numpy as np

from engine.errors import CancelledError, EngineError
from engine.jobs.cancel import CancelToken

# Staged interactions (u, i, r, t) in file order, which `n` keeps.
_PG_STAGE = ("CREATE TEMP TABLE llmrec_stage (n BIGINT GENERATED ALWAYS AS IDENTITY, u INTEGER, i INTEGER, "
             "r DOUBLE PRECISION, t BIGINT) ON COMMIT DROP")
# The same rule as SQLite's upsert (engine.ingest.sqlite_import.MERGE_SQL): per (user, item) the latest timestamp wins,
# on a tie (or without timestamps) the row that comes later in the file.
_PG_MERGE = ("INSERT INTO interactions (dataset_id, user_idx, item_idx, rating, timestamp) "
             "SELECT DISTINCT ON (u, i) %s, u, i, r, t FROM llmrec_stage ORDER BY u, i, t DESC NULLS FIRST, n DESC")


_PG_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_PG_BINARY_TRAILER = struct.pack(">h", -1)


def copy_binary(u, i, r, t) -> bytes:
    """PostgreSQL's binary COPY format for (int4 u, int4 i, float8 r, int8 t) rows, NULL r / t when None:
    per row a field count, then each field's byte length (-1: NULL) and big-endian value."""
    fields = [("n", ">i2"), ("lu", ">i4"), ("u", ">i4"), ("li", ">i4"), ("i", ">i4"), ("lr", ">i4")]
    fields += [("r", ">f8")] if r is not None else []
    fields += [("lt", ">i4")] + ([("t", ">i8")] if t is not None else [])
    rows = np.empty(len(u), dtype=fields)
    rows["n"], rows["lu"], rows["li"] = 4, 4, 4
    rows["u"], rows["i"] = u, i
    rows["lr"] = -1 if r is None else 8
    rows["lt"] = -1 if t is None else 8
    if r is not None:
        rows["r"] = r
    if t is not None:
        rows["t"] = t
    return _PG_BINARY_HEADER + rows.tobytes() + _PG_BINARY_TRAILER


def bulk_writer(session, cancel: CancelToken | None = None) -> "BulkWriter":
    """The bulk writer for the dialect of `session`'s connection (the session owns the transaction)."""
    raw = session.connection().connection.driver_connection
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return SQLiteBulk(raw, cancel)
    if dialect == "postgresql":
        if not hasattr(raw.cursor(), "copy"):
            raise EngineError("bulk loading into PostgreSQL needs the psycopg 3 driver: use a "
                              "postgresql+psycopg://… URL (pip install 'psycopg[binary]')")
        return PostgresBulk(raw, cancel)
    raise EngineError(f"bulk loading is not supported on {dialect}; use SQLite or PostgreSQL")


class BulkWriter:
    def __init__(self, raw, cancel: CancelToken | None):
        self.raw, self.cancel = raw, cancel
        self.cur = raw.cursor()

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.cur.close()


class SQLiteBulk(BulkWriter):
    def insert(self, table, columns, rows):
        marks = ", ".join("?" * len(columns))
        self.cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


class PostgresBulk(BulkWriter):
    """Also the importer's staging: `start_stage`, `stage` per chunk, `merge` once."""

    def insert(self, table, columns, rows):
        with self.cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def start_stage(self):
        self.cur.execute("DROP TABLE IF EXISTS llmrec_stage")
        self.cur.execute(_PG_STAGE)
        # this transaction only: the merge's sort stays in memory (the server default, 4MB, spills to disk)
        self.cur.execute("SET LOCAL work_mem = '256MB'")

    def stage(self, u, i, r, t):
        """Append interactions (r / t None when the data has none): binary COPY of the whole chunk, built with numpy (no per-row Python work)."""
        with self.cur.copy("COPY llmrec_stage (u, i, r, t) FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(copy_binary(u, i, r, t))

    def merge(self, dataset_id):
        """The staged rows into `interactions`, repeated pairs collapsed; returns the number stored.
        One INSERT … SELECT DISTINCT ON; a cancel during it is sent to the server (query cancel)."""
        import psycopg
        done = threading.Event()
        cancel = self.cancel

        def watch():
            while not done.wait(0.05):
                if cancel.cancelled:
                    self.raw.cancel_safe()
                    return

        watcher = threading.Thread(target=watch, daemon=True) if cancel is not None else None
        if watcher is not None:
            watcher.start()
        try:
            self.cur.execute(_PG_MERGE, (dataset_id,))
            n = self.cur.rowcount
        except psycopg.errors.QueryCanceled:
            raise CancelledError() from None
        except psycopg.Error as exc:
            raise EngineError(f"writing the interactions failed: {exc}") from exc
        finally:
            done.set()
            if watcher is not None:
                watcher.join()
        if cancel is not None and cancel.cancelled:
            raise CancelledError()
        self.cur.execute("DROP TABLE llmrec_stage")
        return n
