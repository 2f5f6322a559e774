"""A small accuracy-diversity frontier: NDCG@10 against ILD@10 over the trade-off sweep, one curve per
re-ranking space (the slider's space bold, with its current trade-off marked)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from llmrec_gui.widgets.plot_style import export_item, style_plot

OTHER_COLOURS = ("#72b7b2", "#f58518", "#54a24b", "#b279a2")


class FrontierPlot(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.widget = pg.PlotWidget()
        self.plot = self.widget.getPlotItem()
        style_plot(self.plot)
        self.plot.setTitle("Frontier")
        self.plot.setLabel("bottom", "ILD@10")
        self.plot.setLabel("left", "NDCG@10")
        for side in ("left", "bottom"):
            self.plot.getAxis(side).enableAutoSIPrefix(False)
        self.legend = self.plot.addLegend(offset=(5, -5), labelTextSize="8pt")   # bottom left: the curves'
                                                                                  # empty corner
        self.others: list = []         # the other spaces' curves, thin
        self.curve = self.plot.plot([], [], pen=pg.mkPen("#4c78a8", width=2), symbol="o", symbolSize=6,
                                    symbolBrush="#4c78a8")
        self.marker = pg.ScatterPlotItem(size=14, brush=pg.mkBrush("#e4572e"), pen=pg.mkPen("k"))
        self.plot.addItem(self.marker)
        self.widget.setMinimumSize(160, 140)
        self.setToolTip("NDCG@10 against ILD@10 (categories) over the diversity sweep, one curve per re-ranking "
                        "space (on the half of the test users the space is chosen on); the bold curve is the "
                        "slider's space, the red dot its trade-off")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.widget)
        self.rows: list[dict] = []

    def set_rows(self, rows: list[dict], ild_key: str, ndcg_key: str = "ndcg@10", *, label: str | None = None,
                 others: dict[str, list[dict]] | None = None) -> None:
        """The slider's curve (`rows`, named `label`) and the other spaces' curves (`others`, by name)."""
        self.rows = sorted(rows, key=lambda r: r["tradeoff"])
        self.ild_key, self.ndcg_key = ild_key, ndcg_key
        self._clear_others()
        for n, (name, other) in enumerate((others or {}).items()):
            other = sorted(other, key=lambda r: r["tradeoff"])
            colour = OTHER_COLOURS[n % len(OTHER_COLOURS)]
            item = self.plot.plot([r[ild_key] for r in other], [r[ndcg_key] for r in other],
                                  pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine), name=name)
            self.others.append(item)
        self.curve.setData([r[ild_key] for r in self.rows], [r[ndcg_key] for r in self.rows])
        if label is not None and others:
            self.legend.addItem(self.curve, label)
        self.plot.enableAutoRange()
        self.plot.autoRange()

    def _clear_others(self) -> None:
        for item in self.others:
            self.plot.removeItem(item)
        self.others = []
        self.legend.clear()

    def set_message(self, text: str) -> None:
        self.rows = []
        self._clear_others()
        self.curve.setData([], [])
        self.marker.setData([], [])
        self.plot.setTitle(text)

    def mark(self, tradeoff: float) -> None:
        """Mark the point of the sweep nearest to the current trade-off (interpolated)."""
        if not self.rows:
            return
        t = np.array([r["tradeoff"] for r in self.rows])
        x = np.interp(tradeoff, t, [r[self.ild_key] for r in self.rows])
        y = np.interp(tradeoff, t, [r[self.ndcg_key] for r in self.rows])
        self.marker.setData([x], [y])
        self.plot.setTitle(f"Frontier (t = {tradeoff:.2f})")

    def export(self, path: str) -> None:
        export_item(self.plot, path)
