"""The validated, atomic import: chunks streamed into a staging table, sorted into key order, then
written into the keyed interactions table in short steps, repeated (user, item) events collapsed to
the latest; progress and cancel between chunks. Nothing is visible unless the whole import succeeds."""
from __future__ import annotations

import dataclasses
import operator
import os
import socket
import sqlite3
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from itertools import compress, repeat
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from engine.errors import CancelledError, EngineError, InputError, shorten
from engine.jobs.cancel import CancelToken, check
from engine.store.ownership import process_mark, writer_gone
from engine.store import Store
from engine.store.db import begin_write
from engine.store import repository as repo
from engine.ingest.detected import DetectedFormat
from engine.ingest.formats import detect_format, with_mapping
from engine.ingest.mapping import Mapping
from engine.ingest.scales import guess_scale
from engine.ingest.items import ItemFields, ItemTable, fold_tags, read_items
from engine.ingest.reader import Chunk, ChunkSplitter, first_bad
from engine.ingest.textio import CSV_DELIMITERS, FALLBACK, iter_chunks, open_source

CHUNK_BYTES = 1 << 22
TS_MAX = 2**62   # far beyond any real date; keeps values inside SQLite's 64-bit integers


@dataclass(frozen=True)
class ImportProgress:
    """Reported after each chunk: `stage` is 'items', 'interactions', 'sorting' (once, before the sort into
    key order), 'writing' (or 'waiting for the database' while another program writes) or 'done'."""
    stage: str
    rows: int
    bytes_read: int
    bytes_total: int
    path: str = ""

    @property
    def fraction(self) -> float:
        return self.bytes_read / self.bytes_total if self.bytes_total else 0.0


@dataclass(frozen=True)
class ImportSummary:
    dataset_id: int | None          # None after a dry run
    name: str
    format: str
    n_users: int
    n_items: int
    n_interactions: int
    skipped: dict = field(default_factory=dict)   # reason -> rows
    duplicates: int = 0                           # repeated (user, item) rows collapsed to the latest
    seconds: float = 0.0
    rows_read: int = 0
    rating_min: float | None = None
    rating_max: float | None = None
    positive_threshold: float | None = None
    dry_run: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


class _DryRun(Exception):
    """Raised inside the transaction of a dry run so that everything is rolled back."""


def _utc_epoch(text: str) -> int:
    dt = datetime.fromisoformat(text.strip())
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp())


def _to_int(v: bytes) -> int:
    try:
        return int(v)
    except ValueError:
        x = float(v)
        if not np.isfinite(x):
            raise
        return int(x)


class _Interactions:
    """Turns chunks of the interactions file into (user idx, item idx, rating, timestamp) lists,
    validating every cell and counting skipped rows by reason."""

    def __init__(self, det: DetectedFormat, items: ItemTable | None, on_unknown_item: str):
        s, m = det.interactions, det.mapping
        self.sniff, self.m, self.on_unknown = s, m, on_unknown_item
        ties = dict(det.ambiguous)
        for role in ("user", "item"):
            if getattr(m, role) is not None:
                continue
            if role in ties:
                raise InputError(f"cannot tell which column holds the {role}: " + " or ".join(ties[role])
                                 + f"; choose one with --{role} COLUMN (or in the mapping)", path=s.path, line=1)
            raise InputError(f"no {role} column; name it in the mapping (e.g. --{role} COLUMN); the columns are: "
                             + ", ".join(shorten(c, quote=False) for c in s.columns), path=s.path, line=1)
        self.uk = s.index(m.user, "user")
        self.ik = s.index(m.item, "item")
        self.rk = s.index(m.rating, "rating") if m.rating is not None else None
        self.tk = s.index(m.timestamp, "timestamp") if m.timestamp is not None else None
        self.fields: ItemFields | None = None
        self.text_k: list[int] = []
        if items is None:
            if m.description is not None and m.title is not None and s.index(m.description, "description") == \
                    s.index(m.title, "title"):
                m = dataclasses.replace(m, description=None)   # the title column: no separate description
            self.fields = ItemFields(s, m)
            self.text_k = self.fields.columns
        self.excl = [(s.index(e.column, f"exclude rule ({e.reason})"), e) for e in m.exclude]
        wanted = [self.uk, self.ik] + [k for k in (self.rk, self.tk) if k is not None] + self.text_k
        wanted += [k for k, _ in self.excl]
        self.splitter = ChunkSplitter(s, wanted)
        self.items = items
        self.items_path = det.items.path if det.items is not None else ""
        self.umap: dict[bytes, int] = {}
        self.imap: dict[bytes, int] = ({} if items is None else
                                       {i.encode(s.encoding.replace("-sig", ""), "replace"): k
                                        for i, k in items.index.items()})
        self.item_text: dict[int, tuple[bytes, ...]] = {}   # an item's cells of the text_k columns
        self.skipped: Counter = Counter()
        self.rows_read = 0
        self.rmin, self.rmax = np.inf, -np.inf
        self.ts_cache: dict[bytes, int] = {}

    def _err(self, chunk: Chunk, idx: np.ndarray | None, j: int, k: int, msg: str) -> InputError:
        row = int(idx[j]) if idx is not None else j
        return InputError(msg, path=self.sniff.path, line=chunk.line(row), column=self.sniff.label(k))

    def rows(self, chunk: Chunk):
        cols, n = chunk.columns, chunk.n
        self.rows_read += n
        if n == 0:
            return None
        keep = None
        ucol = cols[self.uk]
        if chunk.has_empty(self.uk):
            empty = np.array([not v.strip() for v in ucol])
            if not self.m.skip_missing_user:
                j = int(np.argmax(empty))
                raise self._err(chunk, None, j, self.uk, "empty user id; expected an id (or choose to skip "
                                "rows without a user)")
            self.skipped["missing user"] += int(empty.sum())
            keep = ~empty
        for k, e in self.excl:
            v = e.value.encode()
            col = cols[k]
            if e.op == "prefix":
                hit = np.array([x.startswith(v) for x in col])
            elif e.op == "eq":
                hit = np.array([x.strip() == v for x in col])
            else:
                limit = float(e.value)
                hit = np.array([_lt(x, limit) for x in col])
            if keep is not None:
                hit &= keep
            c = int(hit.sum())
            if c:
                self.skipped[e.reason] += c
                keep = ~hit if keep is None else keep & ~hit
        idx = None
        if keep is not None:
            idx = np.flatnonzero(keep)
            if len(idx) == 0:
                return None
            cols = {k: list(compress(c, keep)) for k, c in cols.items()}
        icol = cols[self.ik]
        if (chunk.has_empty(self.ik) if keep is None else b"" in icol):
            raise self._err(chunk, idx, icol.index(b""), self.ik, "empty item id; expected an id")
        ratings = times = None
        if self.rk is not None:
            rcol = cols[self.rk]
            try:
                ratings = list(map(float, rcol))
            except ValueError:
                j = first_bad(rcol, float)
                raise self._err(chunk, idx, j, self.rk, f"expected a number for the rating, found "
                                f"{rcol[j].decode('latin-1')!r}") from None
            arr = np.asarray(ratings)
            finite = np.isfinite(arr)
            lo, hi = arr.min(), arr.max()
            if not finite.all():
                j = int(np.argmin(finite))
                raise self._err(chunk, idx, j, self.rk, f"expected a finite number for the rating, found "
                                f"{rcol[j].decode('latin-1')!r}")
            if lo < 0 and self.m.rating_min is None:
                j = int(np.argmin(arr))
                raise self._err(chunk, idx, j, self.rk, f"the rating {rcol[j].decode('latin-1')!r} is negative; "
                                "expected a scale such as 1-5 or 0.5-5 (to import negative ratings, give the "
                                "scale: --rating-min/--rating-max, or the rating scale in the import wizard)")
        if self.tk is not None:
            times = self._timestamps(chunk, idx, cols[self.tk])
            if times and (max(times) > TS_MAX or min(times) < -TS_MAX):
                j = next(j for j, t in enumerate(times) if not -TS_MAX <= t <= TS_MAX)
                raise self._err(chunk, idx, j, self.tk, f"timestamp {times[j]} is out of range; expected epoch "
                                "seconds")
        if self.items is not None:
            get = self.imap.get
            iidx = [get(x) for x in icol]
            if None in iidx:
                if self.on_unknown == "error":
                    j = iidx.index(None)
                    raise self._err(chunk, idx, j, self.ik, f"unknown item id {icol[j].decode('latin-1')!r}: it is "
                                    f"not in the item file {self.items_path}; expected a known id (or choose to "
                                    f"drop such rows)")
                known = [i is not None for i in iidx]
                self.skipped["unknown item"] += known.count(False)
                iidx = list(compress(iidx, known))
                cols = {k: list(compress(c, known)) for k, c in cols.items()}
                ratings = list(compress(ratings, known)) if ratings is not None else None
                times = list(compress(times, known)) if times is not None else None
                if not iidx:
                    return None
        else:
            n_before = len(self.imap)
            iidx = _index(self.imap, icol)
            if self.text_k and len(self.imap) > n_before:
                text_cols = [cols[k] for k in self.text_k]
                for j, ii in enumerate(iidx):
                    if ii >= n_before and ii not in self.item_text:
                        self.item_text[ii] = tuple(c[j] for c in text_cols)
        if ratings is not None and ratings:
            self.rmin, self.rmax = min(self.rmin, float(lo)), max(self.rmax, float(hi))
        uidx = _index(self.umap, cols[self.uk])
        return uidx, iidx, ratings, times

    def _timestamps(self, chunk: Chunk, idx, tcol: list[bytes]) -> list[int]:
        fmt = self.m.timestamp_format
        if fmt in ("auto", "epoch"):
            try:
                return list(map(int, tcol))
            except ValueError:
                pass
            try:
                return list(map(_to_int, tcol))
            except (ValueError, OverflowError):
                if fmt == "epoch":
                    j = first_bad(tcol, _to_int)
                    raise self._err(chunk, idx, j, self.tk, f"expected a timestamp in epoch seconds, found "
                                    f"{tcol[j].decode('latin-1')!r}") from None
        cache = self.ts_cache
        if len(cache) > 100_000:
            cache.clear()
        for j, v in enumerate(tcol):
            if v not in cache:
                try:
                    cache[v] = _to_int(v) if fmt == "auto" and _numeric(v) else _utc_epoch(v.decode("latin-1"))
                except (ValueError, OverflowError):
                    raise self._err(chunk, idx, j, self.tk, "expected a timestamp (epoch seconds or an ISO date "
                                    f"like 2010-12-01 08:26:00), found {v.decode('latin-1')!r}") from None
        return [cache[v] for v in tcol]


def _index(ids: dict[bytes, int], col: list[bytes]) -> list[int]:
    """Dense indices of `col`, new ids numbered in order of first appearance (dict lookups in C)."""
    idx = list(map(ids.get, col))
    if None in idx:
        new = dict.fromkeys(compress(col, map(operator.is_, idx, repeat(None))))
        ids.update(zip(new, range(len(ids), len(ids) + len(new))))
        idx = list(map(ids.get, col))
    return idx


def _numeric(v: bytes) -> bool:
    try:
        float(v)
        return True
    except ValueError:
        return False


def _lt(x: bytes, limit: float) -> bool:
    try:
        return float(x) < limit
    except ValueError:
        return False


def _valid_text(text: str) -> str:
    """A name from a file name that is not valid UTF-8 (undecodable bytes become U+FFFD)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def default_name(det: DetectedFormat) -> str:
    p = Path(det.interactions.path)
    if det.name != "csv" or p.stem.lower() in ("ratings", "u", "interactions", "data"):
        return p.resolve().parent.name or p.stem
    stem = p.name[:-3] if p.name.endswith(".gz") else p.name
    return Path(stem).stem


def _scale(det: DetectedFormat, lo: float, hi: float) -> tuple[float | None, float | None, float | None]:
    m = det.mapping
    if m.rating is None:
        return None, None, None
    if det.name == "csv":
        rmin, rmax, thr = guess_scale(lo, hi) if np.isfinite(lo) else (det.rating_min, det.rating_max,
                                                                        det.positive_threshold)
    else:
        rmin, rmax, thr = det.rating_min, det.rating_max, det.positive_threshold
        if rmin is None:   # MovieLens 1M/10M: half stars or not
            rmin = 0.5 if np.isfinite(lo) and lo < 1 else 1.0
    pick = lambda override, v: v if override is None else float(override)  # noqa: E731
    return pick(m.rating_min, rmin), pick(m.rating_max, rmax), pick(m.positive_threshold, thr)


STAGE_SQL = "CREATE TEMP TABLE llmrec_stage (u INTEGER, i INTEGER, r REAL, t INTEGER)"
# The staged rows in key order (user, item, then file order, which the upsert below relies on for ties),
# by SQLite's own external merge sort; the sorted copy's rowid is then the position in key order.
SORT_SQL = "CREATE TEMP TABLE llmrec_sorted AS SELECT u, i, r, t FROM temp.llmrec_stage ORDER BY u, i, rowid"
MERGE_SQL = ("INSERT INTO interactions (dataset_id, user_idx, item_idx, rating, timestamp) "
             "SELECT ?, u, i, r, t FROM temp.llmrec_sorted WHERE rowid > ? AND rowid <= ? "
             "ON CONFLICT(dataset_id, user_idx, item_idx) DO UPDATE SET rating = excluded.rating, "
             "timestamp = excluded.timestamp "
             "WHERE excluded.timestamp IS NULL OR excluded.timestamp >= interactions.timestamp")


IMPORTING = repo.IMPORTING  # source key of a dataset still being written (its writer's process_mark): hidden
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


def stage_interactions(det, parser, stage, report, cancel) -> tuple[int, int]:
    """Read the interactions file chunk by chunk, parse it and hand each chunk's (users, items, ratings,
    times) to `stage` (SQLite: a TEMP table; PostgreSQL: COPY). Returns (rows staged, file bytes); no
    usable row at all is an InputError naming the file."""
    staged = 0
    path = det.interactions.path
    with open_source(path) as src:
        total = src.total
        quote_aware = det.interactions.delimiter in CSV_DELIMITERS
        for start, data in iter_chunks(src, CHUNK_BYTES, quote_aware):
            check(cancel)
            got = parser.rows(parser.splitter.split(start, data))
            if got is not None:
                stage(*got)
                staged += len(got[0])
            report(ImportProgress("interactions", parser.rows_read, src.bytes_read, total, path))
    check(cancel)
    if staged == 0:
        why = ", ".join(f"{v} {k}" for k, v in parser.skipped.items()) or "no data rows"
        raise InputError(f"no interactions to import ({why}); expected at least one row with a user and an item",
                         path=path)
    return staged, total


ITEM_COLUMNS = ("dataset_id", "idx", "external_id", "title", "genres", "description")


def user_rows(ds_id: int, parser, enc: str):
    """(dataset_id, idx, external_id) of every user the parser met (SQLite and PostgreSQL imports)."""
    return ((ds_id, i, u.decode(enc, FALLBACK)) for u, i in parser.umap.items())


def item_rows(ds_id: int, parser, items, enc: str):
    """The ITEM_COLUMNS rows: from the item file when there is one, else from the items the parser met
    (with their text cells when the interactions file carries them)."""
    if items is not None:
        yield from ((ds_id, k, items.ids[k], items.titles[k] or items.ids[k], items.genres[k],
                     items.descriptions[k]) for k in range(len(items.ids)))
        return
    where = {k: j for j, k in enumerate(parser.text_k)}
    for key, k in parser.imap.items():
        ext = key.decode(enc, FALLBACK)
        cells = parser.item_text.get(k)
        if cells is None or parser.fields is None:
            yield ds_id, k, ext, ext, None, None
            continue
        t, g, d = parser.fields.build(lambda c: cells[where[c]].decode(enc, FALLBACK))
        yield ds_id, k, ext, t or ext, "|".join(g) or None, d


def discard_dataset(store, raw, ds_id: int) -> None:
    """Remove a dataset that was not finished (its rows cascade), waiting for the lock if need be."""
    begin_write(raw, where=str(store.display_name))
    raw.execute("DELETE FROM datasets WHERE id = ?", (ds_id,))
    raw.commit()


@dataclass(frozen=True)
class ImportLeftovers:
    removed: list[str]                  # hidden datasets whose writer is provably gone
    kept: list[tuple[str, str]]         # (name, why): hidden datasets another machine may still write


def clean_abandoned_imports(store) -> ImportLeftovers:
    """Datasets left hidden by an import or an append that was killed: removed when their writer is
    provably gone (engine.store.ownership.writer_gone); one written from another machine is left alone."""
    from engine.store.schema import DatasetRow
    from sqlalchemy import select
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
    for ds_id, name in gone:
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
    parser = _Interactions(det, items, on_unknown_item)
    try:
        with store.session() as s:
            summary = _write(store, s, det, name, items, parser, report, cancel, t0, dry_run, tag_rows, staging)
            if dry_run:
                raise _DryRun()
    except _DryRun:
        pass
    report(ImportProgress("done", summary.rows_read, 1, 1, det.interactions.path))
    return summary


def _write(store, s, det: DetectedFormat, name: str, items: ItemTable | None, parser: _Interactions,
           report, cancel, t0: float, dry_run: bool, tag_rows: int, staging: bool) -> ImportSummary:
    if not store.is_sqlite:   # PostgreSQL: COPY, one transaction (its MVCC needs no short write steps)
        from engine.ingest.postgres_import import write_postgres
        return write_postgres(store, s, det, name, items, parser, report, cancel, t0, dry_run, tag_rows, staging)
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
    rmin, rmax, thr = _scale(det, parser.rmin, parser.rmax)
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
            from engine.store.schema import DatasetRow
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
