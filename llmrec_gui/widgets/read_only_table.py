"""The app's tables: read-only rows, selected whole, no row numbers."""
from __future__ import annotations

from PySide6.QtWidgets import QAbstractItemView, QTableWidget


class ReadOnlyTable(QTableWidget):
    def __init__(self, columns, parent=None, *, single_selection: bool = True):
        super().__init__(0, len(columns), parent)
        self.setHorizontalHeaderLabels(list(columns))
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        if single_selection:
            self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().setVisible(False)
