"""Rows that repeat: a catalogue's multi-hot genre rows held as its few distinct rows plus one small code
per item. At a million items with a few hundred distinct genre sets this is ~4 MiB where the dense
(n_items, n_genres) float32 matrix was ~100 MiB, and indexing it gives the very same dense rows."""
from __future__ import annotations

import numpy as np


class GroupedRows:
    """A read-only (n_rows, n_cols) matrix whose row ``i`` is ``distinct[codes[i]]``.

    ``rows[idx]`` (an int, a slice, an index or bool array) returns a dense numpy array, as indexing the
    dense matrix would; ``np.asarray(rows)`` builds the full dense matrix (avoid that on a large catalogue)."""

    __slots__ = ("distinct", "codes", "__weakref__")

    def __init__(self, distinct: np.ndarray, codes: np.ndarray):
        self.distinct = np.ascontiguousarray(distinct)
        self.codes = np.asarray(codes)
        if self.codes.ndim != 1:
            raise ValueError("codes must be one-dimensional")

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.codes), self.distinct.shape[1])

    @property
    def dtype(self):
        return self.distinct.dtype

    @property
    def ndim(self) -> int:
        return 2

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, key):
        if isinstance(key, tuple):                      # rows[r, c]: row i is distinct[codes[i]]
            return self.distinct[(self.codes[key[0]],) + key[1:]]
        return self.distinct[self.codes[key]]

    def __array__(self, dtype=None, copy=None):
        out = self.distinct[self.codes]
        return out if dtype is None else out.astype(dtype, copy=False)

    @property
    def nbytes(self) -> int:
        return int(self.distinct.nbytes + self.codes.nbytes)


def rows_of(matrix, idx) -> np.ndarray:
    """``matrix[idx]`` as a dense array for a numpy matrix or a GroupedRows (no full dense copy of the latter)."""
    if isinstance(matrix, GroupedRows):
        return matrix[idx]
    return np.asarray(matrix)[idx]


def distinct_codes(values, key=tuple) -> tuple[list, np.ndarray]:
    """(the distinct ``key(v)`` in order of first appearance, one int32 code per value): what
    ``{key(v): ...}.setdefault`` over the values gives, without hashing each value in Python. The catalogue
    shares one genre tuple per distinct set, so the values are grouped by object identity in numpy (a
    million ``id``s sorted) and only the few distinct objects are keyed (a million tuple hashes in a
    generator were ~1 s of each explore open, twice: pickling the dataset and building the genre matrix)."""
    values = values if isinstance(values, list) else list(values)
    if not values:
        return [], np.zeros(0, np.int32)
    ids = np.fromiter(map(id, values), dtype=np.int64, count=len(values))   # the list keeps each object alive
    _, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")                 # distinct objects by first appearance
    by_key: dict = {}
    remap = np.fromiter((by_key.setdefault(key(values[i]), len(by_key)) for i in first[order].tolist()),
                        dtype=np.int32, count=len(order))
    object_code = np.empty(len(order), np.int32)
    object_code[order] = remap
    return list(by_key), object_code[inverse.reshape(-1)]
