"""The search hits as a real list, like the recommendation list: rank, title, what tells apart items
with the same title (the engine's label: winery, year, id), id, genres, how many of the understood
constraints each hit meets, Like / Dislike buttons and a context menu (like, dislike, not
interested, undo). It only shows an engine ``SearchResult``; the Explore panel connects the signals."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHeaderView, QTableWidgetItem

from llmrec_gui.widgets.item_feedback_table import ItemFeedbackTable

COLUMNS = ("#", "Title", "Which", "ID", "Genres", "Matches", "Feedback")
TIPS = {"Which": "What tells items with the same title apart (a winery, a year, the id)",
        "Matches": "Share of the understood constraints the item meets"}


class SearchResults(ItemFeedbackTable):
    item_activated = Signal(int)               # item index, double click

    def __init__(self, parent=None):
        super().__init__(COLUMNS, parent)
        h = self.horizontalHeader()
        h.setSectionResizeMode(COLUMNS.index("Title"), QHeaderView.ResizeMode.Stretch)
        for name, tip in TIPS.items():
            self.horizontalHeaderItem(COLUMNS.index(name)).setToolTip(tip)
        self.cellDoubleClicked.connect(lambda row, _col: self._activate(row))
        self.setWordWrap(False)

    def set_genres_label(self, label: str) -> None:
        self.horizontalHeaderItem(COLUMNS.index("Genres")).setText(label)

    def set_result(self, result) -> None:
        """Show an engine SearchResult (the 'Which' column only when some title repeats)."""
        self.items = [h.item for h in result.hits]
        self.setRowCount(len(self.items))
        for row, h in enumerate(result.hits):
            met = f"{h.constraints_met:.0%}" if result.constraints else ""
            cells = (str(row + 1), h.title, h.label, h.external_id, ", ".join(h.genres), met)
            tip = (f"words {h.lexical:.2f}, meaning {h.meaning:.2f}, title {h.title_match:.1f}, "
                   f"score {h.score:.3f}")
            for col, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setToolTip(tip)
                cell.setData(Qt.ItemDataRole.UserRole, h.item)
                if col in (0, 5):
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(row, col, cell)
            if self.cellWidget(row, COLUMNS.index("Feedback")) is None:
                self.setCellWidget(row, COLUMNS.index("Feedback"), self._buttons(row))
        self.setColumnHidden(COLUMNS.index("Which"), not any(h.label for h in result.hits))
        self.setColumnHidden(COLUMNS.index("Matches"), not result.constraints)
        for col in (0, 2, 3, 5, 6):
            self.resizeColumnToContents(col)
        self.setColumnWidth(4, min(max(self.columnWidth(4), 140), 220))
        self.clearSelection()

    def _activate(self, row: int) -> None:
        if 0 <= row < len(self.items):
            self.item_activated.emit(self.items[row])
