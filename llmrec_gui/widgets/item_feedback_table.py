"""What the recommendation list and the search results share: a table of items, each row with Like / Dislike
buttons and a right-click menu (like, dislike, not interested, undo) that emit the item and the kind; the
Explore panel records them through the engine. Subclasses fill the rows and set `items`."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QMenu, QToolButton, QWidget

from llmrec_gui.widgets.read_only_table import ReadOnlyTable

KIND_TEXT = {"like": "Like", "dislike": "Dislike", "not_interested": "Not interested"}
KIND_TIPS = {"like": "Like (L): re-score with this item in the history",
             "dislike": "Dislike (D): hide it and demote the items most like it",
             "not_interested": "Not interested (N): hide it, change nothing else"}


class ItemFeedbackTable(ReadOnlyTable):
    feedback_given = Signal(int, str)          # item index, "like" | "dislike" | "not_interested"
    undo_requested = Signal()                  # undo the latest feedback

    def __init__(self, columns, parent=None):
        super().__init__(columns, parent)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        self.items: list[int] = []             # row -> item index
        self.can_undo = False

    def _buttons(self, row: int) -> QWidget:
        """Like / Dislike for a row (made once per row, reused as the rows change)."""
        w = QWidget()
        lay = QHBoxLayout(w)
        lay.setContentsMargins(2, 0, 2, 0)
        lay.setSpacing(2)
        for kind in ("like", "dislike"):
            b = QToolButton()
            b.setText(KIND_TEXT[kind])
            b.setToolTip(KIND_TIPS[kind])
            b.setAutoRaise(True)
            b.setObjectName(f"{kind}-{row}")
            b.clicked.connect(lambda _=False, r=row, k=kind: self._feedback(r, k))
            lay.addWidget(b)
        return w

    def context_menu(self, row: int) -> QMenu:
        """The menu a right click on `row` opens (built separately so tests can drive it)."""
        menu = QMenu(self)
        for kind in ("like", "dislike", "not_interested"):
            a = menu.addAction(KIND_TEXT[kind])
            a.setToolTip(KIND_TIPS[kind])
            a.setObjectName(kind)
            a.setEnabled(0 <= row < len(self.items))
            a.triggered.connect(lambda _=False, r=row, k=kind: self._feedback(r, k))
        menu.addSeparator()
        undo = menu.addAction("Undo last feedback")
        undo.setObjectName("undo")
        undo.setEnabled(self.can_undo)
        undo.triggered.connect(self.undo_requested.emit)
        return menu

    def _context_menu(self, pos) -> None:
        row = self.rowAt(pos.y())
        if row >= 0:
            self.selectRow(row)
        self.context_menu(row).popup(self.viewport().mapToGlobal(pos))

    def _feedback(self, row: int, kind: str) -> None:
        if 0 <= row < len(self.items):
            self.feedback_given.emit(self.items[row], kind)
