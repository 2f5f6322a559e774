"""The runs of the current dataset, from the database, with their metrics."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QTableWidgetItem

from llmrec_gui.widgets.read_only_table import ReadOnlyTable

METRICS = ("ndcg@10", "recall@10", "hit_rate@10", "ild_genre@10", "coverage@10", "novelty@10")
COLUMNS = ("Run", "Model", "Objective", "Device", "Seconds") + METRICS


class RunsTable(ReadOnlyTable):
    """Ctrl/Shift-click selects several runs (to compare them); the first selected is the current run."""
    run_selected = Signal(object)   # RunInfo
    index_requested = Signal(object)   # RunInfo: the context menu's "Build ANN index"
    remove_index_requested = Signal(object)   # RunInfo
    export_requested = Signal(object)         # RunInfo
    delete_requested = Signal(object)         # RunInfo
    compare_requested = Signal(list)          # list[RunInfo], two or more

    def __init__(self, parent=None):
        super().__init__(COLUMNS, parent, single_selection=False)
        self.horizontalHeader().setStretchLastSection(True)
        self.runs: list = []
        self.itemSelectionChanged.connect(self._emit)
        self.build_index_action = QAction("Build ANN index…", self)
        self.build_index_action.setToolTip("Index the run's item vectors (faiss) for fast candidate retrieval "
                                           "in a large catalogue; a background job")
        self.build_index_action.triggered.connect(lambda: self._request(self.index_requested))
        self.remove_index_action = QAction("Remove ANN index", self)
        self.remove_index_action.setToolTip("Delete the run's index: it ranks by exact search again")
        self.remove_index_action.triggered.connect(lambda: self._request(self.remove_index_requested))
        self.export_action = QAction("Export run record…", self)
        self.export_action.setToolTip("Write the run's settings, metrics, epochs and index as JSON")
        self.export_action.triggered.connect(lambda: self._request(self.export_requested))
        self.compare_action = QAction("Compare selected runs", self)
        self.compare_action.setToolTip("Show the selected runs side by side below (Ctrl-click to select several)")
        self.compare_action.triggered.connect(self._request_compare)
        self.delete_action = QAction("Delete run…", self)
        self.delete_action.setToolTip("Remove the run and its model files (never files of another database)")
        self.delete_action.triggered.connect(lambda: self._request(self.delete_requested))

    def selected_run(self):
        rows = {i.row() for i in self.selectedIndexes()}
        return self.runs[min(rows)] if rows else None

    def selected_runs(self) -> list:
        return [self.runs[r] for r in sorted({i.row() for i in self.selectedIndexes()})]

    def context_menu(self) -> QMenu:
        """The right-click menu for the selection (built separately so tests can drive it)."""
        menu = QMenu(self)
        many = len(self.selected_runs()) >= 2
        self.compare_action.setEnabled(many)
        for a in (self.build_index_action, self.remove_index_action, self.export_action):
            menu.addAction(a)
        menu.addAction(self.compare_action)
        menu.addSeparator()
        menu.addAction(self.delete_action)
        return menu

    def contextMenuEvent(self, event) -> None:
        row = self.rowAt(event.pos().y())
        if row < 0:
            return
        if row not in {i.row() for i in self.selectedIndexes()}:
            self.selectRow(row)
        self.context_menu().exec(event.globalPos())

    def _request(self, signal) -> None:
        run = self.selected_run()
        if run is not None:
            signal.emit(run)

    def _request_compare(self) -> None:
        runs = self.selected_runs()
        if len(runs) >= 2:
            self.compare_requested.emit(runs)

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
        """Show `run_id` as the selected run (a selection of several that includes it is kept)."""
        if run_id is not None and any(r.id == run_id for r in self.selected_runs()):
            return
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
