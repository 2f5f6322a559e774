"""Pick a user: type to filter by id (ids only, not the counts), sort by id or by activity; each
row shows the history size, updated when feedback changes it."""
from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QListView, QVBoxLayout, QWidget

ID_ROLE = Qt.ItemDataRole.UserRole + 1       # the external id (what the search matches)
COUNT_ROLE = Qt.ItemDataRole.UserRole + 2    # the interaction count (what "activity" sorts by)
SORTS = {"id": "Sort by id", "activity": "Most active first"}


class _UserProxy(QSortFilterProxyModel):
    def lessThan(self, left, right) -> bool:
        if self.sortRole() == COUNT_ROLE:
            a, b = left.data(COUNT_ROLE), right.data(COUNT_ROLE)
            return a > b if a != b else _id_key(left.data(ID_ROLE)) < _id_key(right.data(ID_ROLE))
        return _id_key(left.data(ID_ROLE)) < _id_key(right.data(ID_ROLE))


def _id_key(ext: str):
    """Numeric ids in numeric order (2 before 10), others after, alphabetically."""
    return (0, int(ext), "") if ext.isdigit() else (1, 0, ext)


class UserPicker(QWidget):
    user_picked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search user id…")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Filter users by id (Ctrl+U)")
        self.sort = QComboBox()
        for key, label in SORTS.items():
            self.sort.addItem(label, key)
        self.sort.setToolTip("Order of the users")
        self.model = QStandardItemModel(self)
        self.proxy = _UserProxy(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterRole(ID_ROLE)
        self.proxy.setSortRole(ID_ROLE)
        self.view = QListView()
        self.view.setModel(self.proxy)
        self.view.setUniformItemSizes(True)   # fast with tens of thousands of users
        self.view.setStyleSheet("QListView::item { padding: 2px 4px; }")
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.sort)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addWidget(self.view)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.sort.currentIndexChanged.connect(self._sort)
        self.view.selectionModel().currentChanged.connect(self._current)
        self.view.clicked.connect(self._clicked)
        self._selecting = False
        self._rows: dict[int, QStandardItem] = {}

    def set_users(self, users: list[tuple[int, str, int]]) -> None:
        """users: (index, external id, number of interactions)."""
        self._selecting = True  # clearing and refilling moves the current row: not a user's pick
        try:
            self.proxy.setDynamicSortFilter(False)
            self.model.clear()
            self._rows = {}
            for idx, ext, n in users:
                it = QStandardItem()
                it.setData(int(idx), Qt.ItemDataRole.UserRole)
                it.setData(str(ext), ID_ROLE)
                it.setEditable(False)
                self._set_text(it, n)
                self._rows[int(idx)] = it
                self.model.appendRow(it)
            self._sort()
        finally:
            self._selecting = False

    @staticmethod
    def _set_text(it: QStandardItem, n: int) -> None:
        it.setData(int(n), COUNT_ROLE)
        it.setText(f"{it.data(ID_ROLE)}  ({n} interaction{'s' if n != 1 else ''})")

    def set_count(self, user: int, n: int) -> None:
        """Show a new interaction count for `user` (after a like or a dislike)."""
        it = self._rows.get(int(user))
        if it is not None and it.data(COUNT_ROLE) != n:
            self._set_text(it, n)

    def _sort(self) -> None:
        self.proxy.setSortRole(COUNT_ROLE if self.sort.currentData() == "activity" else ID_ROLE)
        self.proxy.sort(0)

    def select(self, user: int) -> None:
        """Show `user` as the current row without emitting `user_picked` (the state already knows)."""
        it = self._rows.get(int(user))
        if it is None:
            return
        index = self.proxy.mapFromSource(it.index())
        if index.isValid():
            self._selecting = True
            try:
                self.view.setCurrentIndex(index)
            finally:
                self._selecting = False
            self.view.scrollTo(index)

    def _current(self, current, _previous) -> None:
        if current.isValid() and not self._selecting:
            self._just_picked = current
            self.user_picked.emit(int(current.data(Qt.ItemDataRole.UserRole)))

    def _clicked(self, index) -> None:
        """A click on the user already current re-selects it (the explorer re-reads its feedback)."""
        if getattr(self, "_just_picked", None) == index:
            self._just_picked = None     # this click made it current: already emitted
            return
        if index.isValid():
            self.user_picked.emit(int(index.data(Qt.ItemDataRole.UserRole)))
