"""A column of strings held as one UTF-8 buffer plus offsets: a million titles are ~30 MiB this way,
~80 MiB as a list of Python strings (each str carries ~50 bytes of object header). Decoded on access."""
from __future__ import annotations

from typing import Iterable, Iterator, Sequence

import numpy as np

# Texts are packed as SQLite's own bytes (not re-checked on load): a damaged byte in a database edited
# by another program shows as U+FFFD where it is displayed, instead of an error in the middle of a view.
UTF8_ERRORS = "replace"


class PackedStrings(Sequence):
    """Read-only sequence of str. ``s[i]`` decodes one string; a slice, a list or an index array gives a
    list of str. Pickles as its buffer and offsets (no per-string objects)."""

    __slots__ = ("_buf", "_ends")

    def __init__(self, buf: bytes, ends: np.ndarray):
        self._buf = bytes(buf)
        self._ends = np.asarray(ends, dtype=np.int64)          # end offset of each string in _buf

    @classmethod
    def from_iterable(cls, values: Iterable[str], block: int = 50_000) -> "PackedStrings":
        builder = PackedStringsBuilder()
        chunk: list[str] = []
        for v in values:
            chunk.append(v)
            if len(chunk) >= block:
                builder.extend(chunk)
                chunk = []
        builder.extend(chunk)
        return builder.build()

    def __len__(self) -> int:
        return len(self._ends)

    def _one(self, i: int) -> str:
        n = len(self._ends)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("string index out of range")
        a = int(self._ends[i - 1]) if i else 0
        return self._buf[a:int(self._ends[i])].decode("utf-8", UTF8_ERRORS)

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            return self._one(int(key))
        if isinstance(key, slice):
            key = range(*key.indices(len(self)))
        idx = np.asarray(key)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        return [self._one(int(i)) for i in idx.reshape(-1)]

    def __iter__(self) -> Iterator[str]:
        buf, a = self._buf, 0
        for start in range(0, len(self._ends), 65_536):
            for b in self._ends[start:start + 65_536].tolist():
                yield buf[a:b].decode("utf-8", UTF8_ERRORS)
                a = b

    def __eq__(self, other) -> bool:
        if isinstance(other, PackedStrings):
            return self._buf == other._buf and np.array_equal(self._ends, other._ends)
        if isinstance(other, (list, tuple)):
            return len(other) == len(self) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        head = ", ".join(repr(s) for s in self[:3])
        return f"PackedStrings([{head}{', ...' if len(self) > 3 else ''}], n={len(self)})"

    def __getstate__(self):
        return (self._buf, self._ends)

    def __setstate__(self, state) -> None:
        self._buf, self._ends = state

    @property
    def nbytes(self) -> int:
        return len(self._buf) + self._ends.nbytes


class PackedStringsBuilder:
    """Appends blocks of strings (the loader reads items in blocks) without a list of every string."""

    def __init__(self):
        self._parts: list[bytes] = []
        self._lengths: list[np.ndarray] = []

    def extend(self, values: Sequence[str]) -> None:
        if not len(values):
            return
        self.extend_encoded([v.encode("utf-8") for v in values])

    def extend_encoded(self, encoded: Sequence[bytes]) -> None:
        """Append strings given as their UTF-8 bytes (as SQLite stores them)."""
        if not len(encoded):
            return
        self._lengths.append(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)))
        self._parts.append(b"".join(encoded))

    def build(self) -> PackedStrings:
        ends = np.cumsum(np.concatenate(self._lengths)) if self._lengths else np.zeros(0, np.int64)
        buf = b"".join(self._parts)
        self._parts, self._lengths = [], []
        return PackedStrings(buf, ends)
