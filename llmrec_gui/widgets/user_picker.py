"""Pick a user: type to filter by id (ids only, not the counts); sort by id (numeric ids as numbers)
or by activity; each row shows the history size, updated when feedback changes it. The list is lazy
(user_list_model.UserListModel): a million users are two arrays, searched per keystroke."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QListView, QVBoxLayout, QWidget

from engine.explore.user_search import activity_order, id_order
from llmrec_gui.widgets.user_list_model import UserListModel

SORTS = {"id": "Sort by id", "activity": "Most active first"}


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
        self.model = UserListModel(self)
        self.proxy = self.model               # the filtered list the view shows (the model filters itself)
        self.view = QListView()
        self.view.setModel(self.proxy)
        self.view.setUniformItemSizes(True)   # fast with tens of thousands of users
        self.view.setStyleSheet("QListView::item { padding: 2px 4px; }")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.sort)
        lay.addLayout(top)
        lay.addWidget(self.view)
        self.search.textChanged.connect(self.model.set_filter)
        self.sort.currentIndexChanged.connect(self._sort)
        self.view.selectionModel().currentChanged.connect(self._current)
        self.view.clicked.connect(self._clicked)
        self._selecting = False
        self._just_picked = None

    def set_users(self, users: list[tuple[int, str, int]]) -> None:
        """users: (index, external id, number of interactions), index = position."""
        self.set_user_arrays([ext for _i, ext, _n in users], [n for _i, _e, n in users])

    def set_user_arrays(self, ids, counts) -> None:
        """ids[u]: user u's external id; counts[u]: their number of interactions (no per-row objects)."""
        self._selecting = True  # clearing and refilling moves the current row: not a user's pick
        try:
            self.model.set_users(ids, counts)
            self._sort()
        finally:
            self._selecting = False

    def _sort(self) -> None:
        current = self.view.currentIndex()
        user = current.data(Qt.ItemDataRole.UserRole) if current.isValid() else None
        ids, counts = self.model._ids, self.model._counts
        selecting, self._selecting = self._selecting, True
        try:
            self.model.set_order(activity_order(counts) if self.sort.currentData() == "activity" else id_order(ids))
            if user is not None:
                self.select(int(user))
        finally:
            self._selecting = selecting

    def set_count(self, user: int, n: int) -> None:
        """Show a new interaction count for `user` (after a like or a dislike); under "Most active first"
        the user moves to where the new count puts them (the order is always true, issue 22 item 6)."""
        self.model.set_count(user, n)
        if self.sort.currentData() == "activity" and not self.model.in_order(user):
            self._sort()

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
            self._just_picked = current
            self.user_picked.emit(int(current.data(Qt.ItemDataRole.UserRole)))

    def _clicked(self, index) -> None:
        """A click on the user already current re-selects it (the explorer re-reads its feedback)."""
        if self._just_picked == index:
            self._just_picked = None     # this click made it current: already emitted
            return
        if index.isValid():
            self.user_picked.emit(int(index.data(Qt.ItemDataRole.UserRole)))
