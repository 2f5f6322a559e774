"""The user's feedback history: what was liked, disliked or marked not interested, and when;
each entry can be undone. It shows the engine's FeedbackEntry list and emits undo requests."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHeaderView, QTableWidgetItem, QToolButton

from llmrec_gui.widgets.read_only_table import ReadOnlyTable

KIND_LABEL = {"like": "Liked", "dislike": "Disliked", "not_interested": "Not interested"}


class FeedbackHistory(ReadOnlyTable):
    undo_requested = Signal(int)     # feedback id

    def __init__(self, parent=None):
        super().__init__(("Feedback", "Title", "When", ""), parent)
        self.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.horizontalHeaderItem(2).setToolTip("When the feedback was given (UTC)")
        self.setWordWrap(False)             # one line per entry; the full title is in the tooltip
        self.entries: list = []

    def set_entries(self, entries, titles) -> None:
        """entries: engine FeedbackEntry list, oldest first; shown newest first."""
        self.entries = list(entries)
        self.setRowCount(len(self.entries))
        for row, e in enumerate(reversed(self.entries)):
            when = e.created_at[5:16].replace("T", " ")          # "12-02 06:07"
            for col, text in enumerate((KIND_LABEL.get(e.kind, e.kind), titles[e.item], when)):
                cell = QTableWidgetItem(text)
                cell.setToolTip(f"{KIND_LABEL.get(e.kind, e.kind)} “{titles[e.item]}” on "
                                f"{e.created_at.replace('T', ' ')} UTC")
                self.setItem(row, col, cell)
            b = QToolButton()
            b.setText("Undo")
            b.setAutoRaise(True)
            b.setObjectName(f"undo-{e.id}")
            b.setToolTip("Undo this feedback: the list is re-scored without it")
            b.clicked.connect(lambda _=False, fid=e.id: self.undo_requested.emit(fid))
            self.setCellWidget(row, 3, b)
        for col in (0, 2, 3):
            self.resizeColumnToContents(col)
