"""The recommendation list: rank, title, genres, score, a mark on items promoted for diversity,
the explanation as a tooltip, and like / dislike buttons."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QHBoxLayout, QHeaderView, QTableWidgetItem,
                               QToolButton, QWidget)

from .read_only_table import ReadOnlyTable

COLUMNS = ("#", "", "Title", "Genres", "Score", "Feedback")
PROMOTED = "◆"
PROMOTED_BG = QColor("#fff4d6")


class RecList(ReadOnlyTable):
    row_selected = Signal(int)                 # list position
    feedback_given = Signal(int, str)          # item index, "like" | "dislike"

    def __init__(self, parent=None):
        super().__init__(COLUMNS, parent)
        h = self.horizontalHeader()
        h.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        h.setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
        self.horizontalHeaderItem(1).setToolTip(f"{PROMOTED} = promoted by the diversity re-ranker")
        self.itemSelectionChanged.connect(self._selected)
        self.items: list[int] = []

    def set_genres_label(self, label: str) -> None:
        """Name the genres column after what the dataset's categories are ("Categories" for wines)."""
        self.horizontalHeaderItem(COLUMNS.index("Genres")).setText(label)

    def set_list(self, rec) -> None:
        """Show a RecList (explore_logic); keeps the selected list position when possible."""
        keep = self.current_row()
        self.blockSignals(True)
        self.items = [int(i) for i in rec.items]
        self.setRowCount(len(self.items))
        for row, item in enumerate(self.items):
            promoted = bool(rec.promoted[row])
            cells = (str(row + 1), PROMOTED if promoted else "", rec.titles[row], ", ".join(rec.genres[row]),
                     f"{float(rec.scores[row]):.3f}")
            tip = rec.explanations[row] if row < len(rec.explanations) else ""
            if promoted:
                tip = "Promoted for diversity. " + tip
            for col, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setToolTip(tip)
                cell.setData(Qt.ItemDataRole.UserRole, item)
                if promoted:
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
        if 0 <= keep < len(self.items):
            self.selectRow(keep)
        self.blockSignals(False)

    def _buttons(self, row: int) -> QWidget:
        """Like / Dislike for a list position (made once per row, reused as the list changes)."""
        w = QWidget()
        lay = QHBoxLayout(w)
        lay.setContentsMargins(2, 0, 2, 0)
        lay.setSpacing(2)
        for kind, text, tip in (("like", "Like", "Like (L): re-score with this item in the history"),
                                ("dislike", "Dislike", "Dislike (D): never recommend this item to this user")):
            b = QToolButton()
            b.setText(text)
            b.setToolTip(tip)
            b.setAutoRaise(True)
            b.setObjectName(f"{kind}-{row}")
            b.clicked.connect(lambda _=False, r=row, k=kind: self._feedback(r, k))
            lay.addWidget(b)
        return w

    def _feedback(self, row: int, kind: str) -> None:
        if 0 <= row < len(self.items):
            self.feedback_given.emit(self.items[row], kind)

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
