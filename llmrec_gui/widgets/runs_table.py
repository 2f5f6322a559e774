"""The runs of the current dataset, from the database, with their metrics."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QTableWidgetItem

from llmrec_gui.widgets.read_only_table import ReadOnlyTable

METRICS = ("ndcg@10", "recall@10", "hit_rate@10", "ild_genre@10", "coverage@10", "novelty@10")
COLUMNS = ("Run", "Model", "Objective", "Device", "Seconds") + METRICS


class RunsTable(ReadOnlyTable):
    run_selected = Signal(object)   # RunInfo
    index_requested = Signal(object)   # RunInfo: the context menu's "Build ANN index"

    def __init__(self, parent=None):
        super().__init__(COLUMNS, parent)
        self.horizontalHeader().setStretchLastSection(True)
        self.runs: list = []
        self.itemSelectionChanged.connect(self._emit)
        self.build_index_action = QAction("Build ANN index…", self)
        self.build_index_action.setToolTip("Index the run's item vectors (faiss) for fast candidate retrieval "
                                           "in a large catalogue; a background job")
        self.build_index_action.triggered.connect(self._request_index)

    def selected_run(self):
        rows = {i.row() for i in self.selectedIndexes()}
        return self.runs[min(rows)] if rows else None

    def contextMenuEvent(self, event) -> None:
        row = self.rowAt(event.pos().y())
        if row < 0:
            return
        self.selectRow(row)
        menu = QMenu(self)
        menu.addAction(self.build_index_action)
        menu.exec(event.globalPos())

    def _request_index(self) -> None:
        run = self.selected_run()
        if run is not None:
            self.index_requested.emit(run)

    def set_runs(self, runs: list) -> None:
        self.blockSignals(True)
        self.runs = list(runs)
        self.setRowCount(len(runs))
        for row, r in enumerate(runs):
            dev = r.device_name or r.device or ""
            cells = [str(r.id), r.model, r.objective or "", dev, "" if r.seconds is None else f"{r.seconds:.1f}"]
            cells += ["" if r.metrics.get(m) is None else f"{r.metrics[m]:.4f}" for m in METRICS]
            for col, text in enumerate(cells):
                it = QTableWidgetItem(text)
                if col >= 4 or col == 0:
                    it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if col == 3:
                    it.setToolTip(dev)
                self.setItem(row, col, it)
        self.resizeColumnsToContents()
        self.setColumnWidth(3, min(self.columnWidth(3), 140))
        self.blockSignals(False)

    def select_id(self, run_id: int | None) -> None:
        self.blockSignals(True)
        self.clearSelection()
        for row, r in enumerate(self.runs):
            if r.id == run_id:
                self.selectRow(row)
        self.blockSignals(False)

    def _emit(self) -> None:
        run = self.selected_run()
        if run is not None:
            self.run_selected.emit(run)
