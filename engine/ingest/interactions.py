"""Parsing the interactions file: `InteractionParser` turns each chunk's cells into (user index,
item index, rating, timestamp) lists, validating every cell (errors name the file, line and column),
numbering users and items densely in order of first appearance and counting skipped rows by reason.
Shared by the SQLite and PostgreSQL write paths; it writes nothing."""
from __future__ import annotations

import dataclasses
import operator
from collections import Counter
from datetime import datetime, timezone
from itertools import compress, repeat

import numpy as np

from engine.errors import InputError, shorten
from engine.ingest.detected import DetectedFormat
from engine.ingest.items import ItemFields, ItemTable
from engine.ingest.reader import Chunk, ChunkSplitter, first_bad

TS_MAX = 2**62   # far beyond any real date; keeps values inside SQLite's 64-bit integers


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


class InteractionParser:
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
