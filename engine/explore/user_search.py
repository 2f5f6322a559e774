"""Search a million user ids per keystroke: case-insensitive substring match, found lazily.

All ids are joined once into one lower-case string ("id0\\nid1\\n..."); a search runs `str.find` (C
speed, no per-row Python) from where the previous page stopped and maps each hit's position to its row
with a binary search over the row offsets. A page of matches costs one `find` per match; a query that
matches nothing costs one scan of the string (about 10 MB for a million ids). The app asks for one
page when the text changes and the next only as the list is scrolled (Qt's fetchMore). The two user
orders the picker offers (by id, by activity) live here too, for any front end.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

PAGE = 500


class UserSearch:
    def __init__(self, ids: Sequence[str]):
        ids = [str(i) for i in ids]
        self.n = len(ids)
        self.blob = ("\n".join(ids) + "\n").lower() if ids else ""
        lengths = np.fromiter((len(i) + 1 for i in ids), dtype=np.int64, count=len(ids))
        self.starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if ids else np.zeros(0, np.int64)
        self.finds = 0          # `str.find` calls made (what the tests count)

    def search(self, text: str, start: int = 0, limit: int = PAGE) -> tuple[np.ndarray, int]:
        """Rows whose id contains `text` (case-insensitive), at most `limit`, scanning the joined ids
        from character `start`. Returns (rows, resume position; -1 when the end was reached)."""
        needle = text.lower()
        if not needle:
            raise ValueError("an empty search matches every row: list them without searching")
        if "\n" in needle:
            return np.zeros(0, np.int64), -1
        hits: list[int] = []
        pos = start
        while len(hits) < limit:
            self.finds += 1
            at = self.blob.find(needle, pos)
            if at < 0:
                return self._rows(hits), -1
            row = int(np.searchsorted(self.starts, at, side="right")) - 1
            hits.append(row)
            pos = int(self.starts[row + 1]) if row + 1 < self.n else len(self.blob)   # one hit per row
        return self._rows(hits), pos

    @staticmethod
    def _rows(hits: list[int]) -> np.ndarray:
        return np.asarray(hits, dtype=np.int64)


def id_order(ids) -> np.ndarray | None:
    """Users by id: numeric ids as numbers (2 before 10), then the others alphabetically; None when
    that is already the file order (no permutation kept)."""
    a = np.asarray(ids).astype(str)
    if len(a) < 2:
        return None
    digits = np.char.isdigit(a) & (np.char.str_len(a) <= 18)
    num = np.zeros(len(a), dtype=np.int64)
    num[digits] = a[digits].astype(np.int64)
    if (not digits.any() and np.all(a[1:] >= a[:-1])) or (digits.all() and np.all(num[1:] >= num[:-1])):
        return None                      # already in id order (the usual case): no sort, no permutation
    order = np.lexsort((a, num, ~digits))
    return None if np.array_equal(order, np.arange(len(a))) else order


def activity_order(counts) -> np.ndarray:
    """Most interactions first (ties in file order)."""
    return np.argsort(-np.asarray(counts, dtype=np.int64), kind="stable")
