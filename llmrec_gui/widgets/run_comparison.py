"""The selected run beside the baselines (MostPopular, ItemKNN, EASE, ALS) as a table and a bar chart:
a model that does not beat MostPopular must show it at a glance."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QTableWidget, QTableWidgetItem, QWidget

from llmrec_gui.widgets.plot_style import export_item, style_plot

BASELINES = ("popularity", "itemknn", "ease", "als")
SHOWN = ("ndcg@10", "recall@10", "hit_rate@10", "mrr@10")
COLORS = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2")


def comparison_rows(run, runs: list) -> list:
    """The selected run, then the latest holdout run of each baseline not already selected."""
    rows = [run] if run is not None else []
    for name in BASELINES:
        cands = [r for r in runs if r.model == name and r.holdout and r.metrics]
        if cands and (run is None or cands[-1].id != run.id):
            rows.append(cands[-1])
    return rows


class RunComparison(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.table = QTableWidget(0, len(SHOWN) + 1)
        self.table.setHorizontalHeaderLabels(("Model",) + SHOWN)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.chart = pg.PlotWidget()
        self.plot = self.chart.getPlotItem()
        style_plot(self.plot)
        self.plot.setTitle("Selected run vs baselines")
        self.legend = self.plot.addLegend(offset=(60, 5))
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.table, 2)
        lay.addWidget(self.chart, 3)
        self.rows: list = []

    def set_runs(self, run, runs: list) -> None:
        """The selected run beside the latest baselines."""
        self.plot.setTitle("Selected run vs baselines")
        self._show(comparison_rows(run, runs), run is not None)

    def set_compared(self, runs: list) -> None:
        """Exactly these runs side by side (the runs table's "Compare selected runs")."""
        self.plot.setTitle(f"{len(runs)} runs compared")
        self._show(list(runs), False)

    def _show(self, rows: list, first_selected: bool) -> None:
        self.rows = rows
        self.table.setRowCount(len(self.rows))
        for r, info in enumerate(self.rows):
            label = f"{info.model} (run {info.id})" + (" ◀ selected" if r == 0 and first_selected else "")
            self.table.setItem(r, 0, QTableWidgetItem(label))
            for c, m in enumerate(SHOWN):
                v = info.metrics.get(m)
                self.table.setItem(r, c + 1, QTableWidgetItem("" if v is None else f"{v:.4f}"))
        self.table.resizeColumnsToContents()
        self.plot.clear()
        self.legend.clear()
        n = max(len(self.rows), 1)
        width = 0.8 / n
        for r, info in enumerate(self.rows):
            x = np.arange(len(SHOWN)) - 0.4 + width * (r + 0.5)
            h = [info.metrics.get(m) or 0.0 for m in SHOWN]
            bars = pg.BarGraphItem(x=x, height=h, width=width * 0.95, brush=COLORS[r % len(COLORS)],
                                   name=f"{info.model} (run {info.id})")
            self.plot.addItem(bars)
        self.plot.getAxis("bottom").setTicks([[(i, m) for i, m in enumerate(SHOWN)]])

    def export(self, path: str) -> None:
        export_item(self.plot, path)
