"""Streaming the interactions file in chunks of whole lines and turning each chunk into columns of raw
bytes. Plain chunks (no quotes, same column count on every line) are split by C-level bytes and numpy
operations; anything else (quotes, blank lines, ragged rows, whitespace delimiters) goes through the
csv module, which also gives exact line numbers for errors."""
from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from typing import Callable, Sequence

import numpy as np

from engine.errors import InputError
from engine.ingest.detected import FileSniff
from engine.ingest.textio import CSV_DELIMITERS, WHITESPACE, split_rows_bulk


@dataclass
class Chunk:
    """Selected columns of one chunk, as the file's bytes, and how to find a row's line number."""
    columns: dict[int, list[bytes]]
    n: int
    start: int                      # line of the first row when `lines` is None (no blank/multi-line rows)
    lines: list[int] | None = None
    empty: frozenset[int] | None = None   # columns known to hold an empty cell (None: not known, check)

    def has_empty(self, k: int) -> bool:
        return k in self.empty if self.empty is not None else b"" in self.columns[k]

    def line(self, j: int) -> int:
        return self.start + j if self.lines is None else self.lines[j]


class ChunkSplitter:
    """Splits chunks of one file into the wanted columns; the header line, if any, is dropped."""

    def __init__(self, sniff: FileSniff, wanted: Sequence[int]):
        self.sniff = sniff
        self.ncols = sniff.n_columns
        self.wanted = sorted(set(wanted))
        self.header_pending = sniff.has_header
        d = sniff.delimiter
        self.fast_ok = d != WHITESPACE
        self.quoted = d in CSV_DELIMITERS
        self.sep = b"\x00" if d == "::" else d.encode()

    def split(self, start: int, data: bytes) -> Chunk:
        if self.header_pending and (self.quoted and b'"' in data[: data.find(b"\n") + 1]):
            return self._slow(start, data)
        if self.header_pending:
            cut = data.find(b"\n")
            if cut < 0:
                self.header_pending = False
                return Chunk({k: [] for k in self.wanted}, 0, start + 1)
            data, start = data[cut + 1:], start + 1
            self.header_pending = False
        chunk = self._fast(start, data) if self.fast_ok else None
        return chunk if chunk is not None else self._slow(start, data)

    def _fast(self, start: int, data: bytes) -> Chunk | None:
        if self.quoted and b'"' in data:
            return None
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n")
            if b"\r" in data:
                return None
        if not data.endswith(b"\n"):
            data += b"\n"
        if self.sep == b"\x00":
            data = data.replace(b"::", b"\x00")
        buf = np.frombuffer(data, dtype=np.uint8)
        pos = np.flatnonzero((buf == self.sep[0]) | (buf == 10))
        nl = buf[pos] == 10
        n = int(np.count_nonzero(nl))
        ncols = self.ncols
        if len(pos) != n * ncols or not nl[ncols - 1::ncols].all():
            return None          # blank line or ragged row: the slow path finds and reports it
        fields = data.replace(b"\n", self.sep).split(self.sep)
        end = n * ncols
        width = np.diff(pos, prepend=-1) - 1          # field lengths, row-major (one-byte separators)
        empty = np.flatnonzero((width.reshape(n, ncols) == 0).any(axis=0)) if n else []
        return Chunk({k: fields[k:end:ncols] for k in self.wanted}, n, start,
                     empty=frozenset(int(k) for k in empty))

    def _slow(self, start: int, data: bytes) -> Chunk:
        rows, lines = split_rows_bulk(data.decode("latin-1"), self.sniff.delimiter, start, path=self.sniff.path)
        if self.header_pending and rows:
            rows = rows[1:]
            lines = lines[1:] if lines is not None else None
            start += 1
            self.header_pending = False
        if set(map(len, rows)) - {self.ncols}:
            what = "the header" if self.sniff.has_header else "the first lines"
            j = next(j for j, r in enumerate(rows) if len(r) != self.ncols)
            raise InputError(f"ragged row: expected {self.ncols} columns like {what}, found {len(rows[j])}",
                             path=self.sniff.path, line=start + j if lines is None else lines[j],
                             column=min(len(rows[j]), self.ncols) + 1)
        cols = {k: list(map(str.encode, map(itemgetter(k), rows), repeat("latin-1"))) for k in self.wanted}
        return Chunk(cols, len(rows), start, lines)


def first_bad(values: list[bytes], parse: Callable[[bytes], object]) -> int:
    """Index of the first value `parse` rejects (the slow path after a vectorised parse failed)."""
    for j, v in enumerate(values):
        try:
            parse(v)
        except (ValueError, OverflowError):
            return j
    return -1
