"""The user picker's model: a lazy list over numpy arrays, so a million users cost two arrays and one
joined string, never a million Qt items. Rows are made only when the view asks for them (the
visible ones); a search shows its first page of matches at once and fetches more as the list is
scrolled (engine.explore.user_search does the matching). An order (by id, by activity) is one permutation
array; a search runs over the ids in that order, so matches come in the order the list shows."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, Qt

from engine.explore.user_search import PAGE, UserSearch

ID_ROLE = Qt.ItemDataRole.UserRole + 1       # the external id (what the search matches)
COUNT_ROLE = Qt.ItemDataRole.UserRole + 2    # the interaction count (what "activity" sorts by)


class UserListModel(QAbstractListModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._ids: np.ndarray = np.zeros(0, dtype=object)
        self._counts = np.zeros(0, np.int64)
        self._search: UserSearch | None = None
        self._text = ""
        self._rows: np.ndarray | None = None     # None: no filter, row r is position r in the order
        self._order: np.ndarray | None = None    # None: file order; else position -> user
        self._pos: np.ndarray | None = None      # user -> position (the inverse of _order)
        self._resume = -1
        self.rows_made = 0                      # data() calls for display (what tests count)

    # ---- content -------------------------------------------------------------------------------
    def set_users(self, ids: Sequence[str], counts: Sequence[int]) -> None:
        """ids[u] is user u's external id, counts[u] their number of interactions."""
        self.beginResetModel()
        self._ids = np.asarray(ids, dtype=object)
        self._counts = np.array(counts, dtype=np.int64)
        self._order = self._pos = None
        self._search = None                     # built on the first search
        self._rows, self._resume = None, -1
        self.endResetModel()
        if self._text:
            self.set_filter(self._text)

    def set_order(self, order: np.ndarray | None) -> None:
        """Show the users in `order` (a permutation of the user indices; None: file order)."""
        self.beginResetModel()
        if order is None:
            self._order = self._pos = None
        else:
            self._order = np.asarray(order, dtype=np.int64)
            self._pos = np.empty_like(self._order)
            self._pos[self._order] = np.arange(len(self._order))
        self._search = None
        self._rows, self._resume = None, -1
        self.endResetModel()
        if self._text:
            self.set_filter(self._text)

    def set_count(self, user: int, n: int) -> None:
        """A user's interaction count changed (a like adds one): the row shows it at once."""
        if 0 <= int(user) < len(self._counts) and self._counts[int(user)] != n:
            self._counts[int(user)] = n
            row = self.row_of(int(user))
            if row >= 0:
                self.dataChanged.emit(self.index(row, 0), self.index(row, 0))

    def in_order(self, user: int) -> bool:
        """Whether `user` still sits between neighbours with at least / at most its count (most active
        first): a changed count is checked against its two neighbours, not by sorting everyone again."""
        if self._pos is None or self._order is None:
            return True
        at, n = int(self._pos[int(user)]), self._counts[int(user)]
        before = self._counts[self._order[at - 1]] if at > 0 else None
        after = self._counts[self._order[at + 1]] if at + 1 < len(self._order) else None
        return (before is None or before >= n) and (after is None or after <= n)

    def count_of(self, user: int) -> int:
        return int(self._counts[int(user)])

    def set_filter(self, text: str) -> None:
        """Show the users whose id contains `text` (case-insensitive): the first page now, more on scroll."""
        self._text = text
        self.beginResetModel()
        if not text:
            self._rows, self._resume = None, -1
        else:
            if self._search is None:
                self._search = UserSearch(self._ids if self._order is None else self._ids[self._order])
            self._rows, self._resume = self._search.search(text, 0, PAGE)
        self.endResetModel()

    # ---- Qt model interface ------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:
        if parent.isValid():
            return 0
        return len(self._ids) if self._rows is None else len(self._rows)

    def user_at(self, row: int) -> int:
        at = int(row if self._rows is None else self._rows[row])
        return at if self._order is None else int(self._order[at])

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        user = self.user_at(index.row())
        if role == Qt.ItemDataRole.DisplayRole:
            self.rows_made += 1
            n = int(self._counts[user])
            return f"{self._ids[user]}  ({n} interaction{'' if n == 1 else 's'})"
        if role == Qt.ItemDataRole.UserRole:
            return user
        if role == ID_ROLE:
            return str(self._ids[user])
        if role == COUNT_ROLE:
            return int(self._counts[user])
        return None

    def canFetchMore(self, parent=QModelIndex()) -> bool:
        return not parent.isValid() and self._rows is not None and self._resume >= 0

    def fetchMore(self, parent=QModelIndex()) -> None:
        if not self.canFetchMore(parent):
            return
        more, self._resume = self._search.search(self._text, self._resume, PAGE)
        if len(more):
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(more) - 1)
            self._rows = np.concatenate([self._rows, more])
            self.endInsertRows()

    def row_of(self, user: int) -> int:
        """The row showing `user`, or -1 when the filter hides it (or it is not fetched yet)."""
        if not 0 <= int(user) < len(self._ids):
            return -1
        at = int(user) if self._pos is None else int(self._pos[int(user)])
        if self._rows is None:
            return at
        hit = np.flatnonzero(self._rows == at)
        return int(hit[0]) if len(hit) else -1
