"""The table of datasets in the database, with their counts."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHeaderView, QTableWidgetItem

from llmrec_gui.widgets.read_only_table import ReadOnlyTable

COLUMNS = ("Name", "Users", "Items", "Interactions", "Ratings", "Positive ≥", "Format")


class DatasetList(ReadOnlyTable):
    dataset_selected = Signal(object)  # DatasetInfo

    def __init__(self, parent=None):
        super().__init__(COLUMNS, parent)
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self._infos: list = []
        self.itemSelectionChanged.connect(self._emit)

    def set_datasets(self, infos: list) -> None:
        self.blockSignals(True)
        self._infos = list(infos)
        self.setRowCount(len(infos))
        for row, d in enumerate(infos):
            scale = "implicit" if d.rating_min is None else f"{d.rating_min:g}–{d.rating_max:g}"
            thr = "all" if d.positive_threshold is None else f"{d.positive_threshold:g}"
            cells = (d.name, f"{d.n_users:,}", f"{d.n_items:,}", f"{d.n_interactions:,}", scale, thr,
                     str(d.source.get("format", "")))
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col in (1, 2, 3):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(row, col, item)
        self.resizeColumnsToContents()
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.blockSignals(False)

    def select_id(self, dataset_id: int | None) -> None:
        self.blockSignals(True)
        for row, d in enumerate(self._infos):
            if d.id == dataset_id:
                self.selectRow(row)
        self.blockSignals(False)

    def _emit(self) -> None:
        rows = {i.row() for i in self.selectedIndexes()}
        if rows:
            self.dataset_selected.emit(self._infos[min(rows)])
