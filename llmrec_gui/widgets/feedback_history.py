"""The user's feedback history: what was liked, disliked or marked not interested, and when;
each entry can be undone. It shows the engine's FeedbackEntry list and emits undo requests."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHeaderView, QTableWidgetItem, QToolButton

from .read_only_table import ReadOnlyTable

KIND_LABEL = {"like": "👍 liked", "dislike": "👎 disliked", "not_interested": "✕ not interested"}


class FeedbackHistory(ReadOnlyTable):
    undo_requested = Signal(int)     # feedback id

    def __init__(self, parent=None):
        super().__init__(("When (UTC)", "Feedback", "Title", ""), parent)
        self.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.entries: list = []

    def set_entries(self, entries, titles) -> None:
        """entries: engine FeedbackEntry list, oldest first; shown newest first."""
        self.entries = list(entries)
        self.setRowCount(len(self.entries))
        for row, e in enumerate(reversed(self.entries)):
            when = e.created_at.replace("T", " ")[:16]
            for col, text in enumerate((when, KIND_LABEL.get(e.kind, e.kind), titles[e.item])):
                self.setItem(row, col, QTableWidgetItem(text))
            b = QToolButton()
            b.setText("Undo")
            b.setAutoRaise(True)
            b.setObjectName(f"undo-{e.id}")
            b.setToolTip("Undo this feedback: the list is re-scored without it")
            b.clicked.connect(lambda _=False, fid=e.id: self.undo_requested.emit(fid))
            self.setCellWidget(row, 3, b)
        self.resizeColumnToContents(0)
        self.resizeColumnToContents(1)
        self.resizeColumnToContents(3)
