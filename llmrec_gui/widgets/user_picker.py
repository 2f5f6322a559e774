"""Pick a user: type to filter by id; each row shows the history size. The list is lazy
(user_list_model.UserListModel): a million users are two arrays, searched per keystroke."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLineEdit, QListView, QVBoxLayout, QWidget

from .user_list_model import UserListModel


class UserPicker(QWidget):
    user_picked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search user id…")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Filter users by id (Ctrl+U)")
        self.model = UserListModel(self)
        self.proxy = self.model               # the filtered list the view shows (the model filters itself)
        self.view = QListView()
        self.view.setModel(self.proxy)
        self.view.setUniformItemSizes(True)   # fast with tens of thousands of users
        self.view.setStyleSheet("QListView::item { padding: 2px 4px; }")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.search)
        lay.addWidget(self.view)
        self.search.textChanged.connect(self.model.set_filter)
        self.view.selectionModel().currentChanged.connect(self._current)
        self._selecting = False

    def set_users(self, users: list[tuple[int, str, int]]) -> None:
        """users: (index, external id, number of interactions), index = position."""
        self.set_user_arrays([ext for _i, ext, _n in users], [n for _i, _e, n in users])

    def set_user_arrays(self, ids, counts) -> None:
        """ids[u]: user u's external id; counts[u]: their number of interactions (no per-row objects)."""
        self._selecting = True  # clearing and refilling moves the current row: not a user's pick
        try:
            self.model.set_users(ids, counts)
        finally:
            self._selecting = False

    def select(self, user: int) -> None:
        """Show `user` as the current row without emitting `user_picked` (the state already knows)."""
        row = self.model.row_of(int(user))
        if row < 0:
            return
        index = self.model.index(row, 0)
        self._selecting = True
        try:
            self.view.setCurrentIndex(index)
        finally:
            self._selecting = False
        self.view.scrollTo(index)

    def _current(self, current, _previous) -> None:
        if current.isValid() and not self._selecting:
            self.user_picked.emit(int(current.data(Qt.ItemDataRole.UserRole)))
