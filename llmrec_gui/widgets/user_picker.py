"""Pick a user: type to filter by id; each row shows the history size."""
from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QLineEdit, QListView, QVBoxLayout, QWidget


class UserPicker(QWidget):
    user_picked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search user id…")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Filter users by id (Ctrl+U)")
        self.model = QStandardItemModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.view = QListView()
        self.view.setModel(self.proxy)
        self.view.setUniformItemSizes(True)   # fast with tens of thousands of users
        self.view.setStyleSheet("QListView::item { padding: 2px 4px; }")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.search)
        lay.addWidget(self.view)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.view.selectionModel().currentChanged.connect(self._current)
        self._selecting = False

    def set_users(self, users: list[tuple[int, str, int]]) -> None:
        """users: (index, external id, number of interactions)."""
        self._selecting = True  # clearing and refilling moves the current row: not a user's pick
        try:
            self.model.clear()
            for idx, ext, n in users:
                it = QStandardItem(f"{ext}  ({n} interactions)")
                it.setData(int(idx), Qt.ItemDataRole.UserRole)
                it.setEditable(False)
                self.model.appendRow(it)
        finally:
            self._selecting = False

    def select(self, user: int) -> None:
        """Show `user` as the current row without emitting `user_picked` (the state already knows)."""
        found = self.model.match(self.model.index(0, 0), Qt.ItemDataRole.UserRole, int(user), 1,
                                 Qt.MatchFlag.MatchExactly)
        if not found:
            return
        index = self.proxy.mapFromSource(found[0])
        if index.isValid():
            self._selecting = True
            try:
                self.view.setCurrentIndex(index)
            finally:
                self._selecting = False
            self.view.scrollTo(index)

    def _current(self, current, _previous) -> None:
        if current.isValid() and not self._selecting:
            self.user_picked.emit(int(current.data(Qt.ItemDataRole.UserRole)))
