"""The recommendation list: rank, title, genres, score, a mark on items promoted for diversity,
the explanation as a tooltip, like / dislike buttons, and a context menu (like, dislike, not
interested, undo). It shows an engine ``RecList`` and keeps the selection on the same item when
the list re-ranks."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHeaderView, QTableWidgetItem

from llmrec_gui.widgets.item_feedback_table import ItemFeedbackTable

COLUMNS = ("#", "", "Title", "Genres", "Score", "Feedback")
PROMOTED = "◆"
PROMOTED_BG = QColor("#fff4d6")


class RecList(ItemFeedbackTable):
    row_selected = Signal(int)                 # list position

    def __init__(self, parent=None):
        super().__init__(COLUMNS, parent)
        h = self.horizontalHeader()
        h.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        h.setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
        self.horizontalHeaderItem(1).setToolTip(f"{PROMOTED} = promoted by the diversity re-ranker")
        self.itemSelectionChanged.connect(self._selected)

    def set_genres_label(self, label: str) -> None:
        """Name the genres column after what the dataset's categories are ("Categories" for wines)."""
        self.horizontalHeaderItem(COLUMNS.index("Genres")).setText(label)

    def set_list(self, rec, titles: list[str] | None = None) -> None:
        """Show an engine RecList; the selection follows the selected item (not the row number).
        `titles`: what to show per row (a repeated title with what tells it apart), else the rows' own."""
        keep = self.selected_item()
        self.blockSignals(True)
        self.items = [r.item for r in rec.rows]
        self.setRowCount(len(self.items))
        for row, r in enumerate(rec.rows):
            title = r.title if titles is None else titles[row]
            cells = (str(r.rank), PROMOTED if r.promoted else "", title, ", ".join(r.genres), f"{r.score:.3f}")
            tip = r.explanation
            if r.promoted and "promoted for diversity" not in tip.lower():     # the engine's text may say it
                tip = "Promoted for diversity. " + tip
            for col, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setToolTip(tip)
                cell.setData(Qt.ItemDataRole.UserRole, r.item)
                if r.promoted:
                    cell.setBackground(QBrush(PROMOTED_BG))
                if col in (0, 4):
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(row, col, cell)
            if self.cellWidget(row, 5) is None:
                self.setCellWidget(row, 5, self._buttons(row))
        self.resizeColumnToContents(0)
        self.resizeColumnToContents(1)
        self.resizeColumnToContents(4)
        self.resizeColumnToContents(5)
        self.setColumnWidth(3, min(max(self.columnWidth(3), 160), 220))
        self.clearSelection()
        if keep in self.items:
            self.selectRow(self.items.index(keep))
        self.blockSignals(False)

    def current_row(self) -> int:
        rows = {i.row() for i in self.selectedIndexes()}
        return min(rows) if rows else -1

    def select_position(self, row: int) -> None:
        if 0 <= row < self.rowCount():
            self.selectRow(row)

    def selected_item(self) -> int | None:
        row = self.current_row()
        return self.items[row] if 0 <= row < len(self.items) else None

    def _selected(self) -> None:
        row = self.current_row()
        if row >= 0:
            self.row_selected.emit(row)
