"""The user picker's model: a lazy list over numpy arrays, so a million users cost two arrays and one
joined string, never a million Qt items. Rows are made only when the view asks for them (the
visible ones); a search shows its first page of matches at once and fetches more as the list is
scrolled (engine.user_search does the matching)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, Qt

from engine.user_search import PAGE, UserSearch


class UserListModel(QAbstractListModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._ids: np.ndarray = np.zeros(0, dtype=object)
        self._counts = np.zeros(0, np.int64)
        self._search: UserSearch | None = None
        self._text = ""
        self._rows: np.ndarray | None = None     # None: no filter, row r is user r
        self._resume = -1
        self.rows_made = 0                      # data() calls for display (what tests count)

    # ---- content -------------------------------------------------------------------------------
    def set_users(self, ids: Sequence[str], counts: Sequence[int]) -> None:
        """ids[u] is user u's external id, counts[u] their number of interactions."""
        self.beginResetModel()
        self._ids = np.asarray(ids, dtype=object)
        self._counts = np.asarray(counts, dtype=np.int64)
        self._search = None                     # built on the first search
        self._rows, self._resume = None, -1
        self.endResetModel()
        if self._text:
            self.set_filter(self._text)

    def set_filter(self, text: str) -> None:
        """Show the users whose id contains `text` (case-insensitive): the first page now, more on scroll."""
        self._text = text
        self.beginResetModel()
        if not text:
            self._rows, self._resume = None, -1
        else:
            if self._search is None:
                self._search = UserSearch(self._ids)
            self._rows, self._resume = self._search.search(text, 0, PAGE)
        self.endResetModel()

    # ---- Qt model interface ------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:
        if parent.isValid():
            return 0
        return len(self._ids) if self._rows is None else len(self._rows)

    def user_at(self, row: int) -> int:
        return int(row if self._rows is None else self._rows[row])

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        user = self.user_at(index.row())
        if role == Qt.ItemDataRole.DisplayRole:
            self.rows_made += 1
            return f"{self._ids[user]}  ({int(self._counts[user])} interactions)"
        if role == Qt.ItemDataRole.UserRole:
            return user
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
        if self._rows is None:
            return int(user) if 0 <= int(user) < len(self._ids) else -1
        hit = np.flatnonzero(self._rows == int(user))
        return int(hit[0]) if len(hit) else -1
