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
        self.view.setUniformItemSizes(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.search)
        lay.addWidget(self.view)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.view.selectionModel().currentChanged.connect(self._current)
        self._rows: dict[int, int] = {}

    def set_users(self, users: list[tuple[int, str, int]]) -> None:
        """users: (index, external id, number of interactions)."""
        self.model.clear()
        self._rows = {}
        for row, (idx, ext, n) in enumerate(users):
            it = QStandardItem(f"{ext}  ({n} interactions)")
            it.setData(idx, Qt.ItemDataRole.UserRole)
            it.setEditable(False)
            self.model.appendRow(it)
            self._rows[idx] = row

    def select(self, user: int) -> None:
        row = self._rows.get(int(user))
        if row is None:
            return
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if index.isValid():
            self.view.blockSignals(True)
            self.view.setCurrentIndex(index)
            self.view.scrollTo(index)
            self.view.blockSignals(False)

    def _current(self, current, _previous) -> None:
        if current.isValid():
            self.user_picked.emit(int(current.data(Qt.ItemDataRole.UserRole)))
