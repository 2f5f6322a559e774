"""The recommendation list: rank, title, genres, score, a mark on items promoted for diversity,
the explanation as a tooltip, like / dislike buttons, and a context menu (like, dislike, not
interested, undo). It shows an engine ``RecList`` and keeps the selection on the same item when
the list re-ranks."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHBoxLayout, QHeaderView, QMenu, QTableWidgetItem, QToolButton, QWidget

from llmrec_gui.widgets.read_only_table import ReadOnlyTable

COLUMNS = ("#", "", "Title", "Genres", "Score", "Feedback")
PROMOTED = "◆"
PROMOTED_BG = QColor("#fff4d6")
KIND_TEXT = {"like": "Like", "dislike": "Dislike", "not_interested": "Not interested"}
KIND_TIPS = {"like": "Like (L): re-score with this item in the history",
             "dislike": "Dislike (D): hide it and demote the items most like it",
             "not_interested": "Not interested (N): hide it, change nothing else"}


class RecList(ReadOnlyTable):
    row_selected = Signal(int)                 # list position
    feedback_given = Signal(int, str)          # item index, "like" | "dislike" | "not_interested"
    undo_requested = Signal()                  # undo the latest feedback

    def __init__(self, parent=None):
        super().__init__(COLUMNS, parent)
        h = self.horizontalHeader()
        h.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        h.setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
        self.horizontalHeaderItem(1).setToolTip(f"{PROMOTED} = promoted by the diversity re-ranker")
        self.itemSelectionChanged.connect(self._selected)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        self.items: list[int] = []
        self.can_undo = False

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

    def _buttons(self, row: int) -> QWidget:
        """Like / Dislike for a list position (made once per row, reused as the list changes)."""
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
