"""Live training curves: loss, and validation NDCG@10 / Recall@10 per epoch."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from llmrec_gui.widgets.plot_style import style_plot


class TrainingCurves(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.view = pg.GraphicsLayoutWidget()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.view)
        self.loss_plot = self.view.addPlot(title="Training loss")
        self.val_plot = self.view.addPlot(title="Validation")
        for p in (self.loss_plot, self.val_plot):
            style_plot(p)
            p.setLabel("bottom", "epoch")
        self.loss_plot.setLabel("left", "loss")
        self.val_plot.setLabel("left", "validation metric")
        self.val_plot.addLegend(offset=(-10, 10))
        self.loss_plot.addLegend(offset=(10, -10))
        self.loss = self.loss_plot.plot([], [], pen=pg.mkPen("#4c78a8", width=2), name="training")
        self.refit = self.loss_plot.plot([], [], pen=pg.mkPen("#9d755d", width=2, style=Qt.PenStyle.DashLine),
                                         name="refit on all TRAIN")
        self.ndcg = self.val_plot.plot([], [], pen=pg.mkPen("#e4572e", width=2), symbol="o", symbolSize=6,
                                       symbolBrush="#e4572e", name="NDCG@10")
        self.recall = self.val_plot.plot([], [], pen=pg.mkPen("#54a24b", width=2), symbol="s", symbolSize=6,
                                         symbolBrush="#54a24b", name="Recall@10")
        self.clear()

    def clear(self) -> None:
        self.xs, self.ys = [], []
        self.vx, self.vn, self.vr = [], [], []
        self.refit_from: float | None = None   # epochs after early stopping that retrain on all of TRAIN
        for c in (self.loss, self.refit, self.ndcg, self.recall):
            c.setData([], [])

    def add(self, st) -> None:
        """An EpochStats: within-epoch updates (batch set) extend the loss curve at fractional epochs."""
        if st.batch is not None and st.batches:
            x = st.epoch - 1 + st.batch / st.batches
        else:
            x = float(st.epoch)
        if self.refit_from is None and (st.phase == "refit" or (st.batch is None and st.val_ndcg10 is None and self.vx)):
            # the refit on all of TRAIN: said by the live updates' phase from its first batch (its loss
            # starts high again: drawn on the training line, it jumped back up until the epoch ended), and
            # for stored epochs (no phase) by the first epoch without validation after validated ones
            self.refit_from = st.epoch - 1.0
        if st.loss == st.loss:
            self.xs.append(x)
            self.ys.append(st.loss)
            self._draw_loss()
        if st.batch is None and st.val_ndcg10 is not None:
            self.vx.append(st.epoch)
            self.vn.append(st.val_ndcg10)
            self.vr.append(st.val_recall10 if st.val_recall10 is not None else float("nan"))
            self.ndcg.setData(self.vx, self.vn)
            self.recall.setData(self.vx, self.vr)

    def _draw_loss(self) -> None:
        if self.refit_from is None:
            self.loss.setData(self.xs, self.ys)
            return
        cut = next((i for i, x in enumerate(self.xs) if x > self.refit_from), len(self.xs))
        self.loss.setData(self.xs[:cut], self.ys[:cut])
        self.refit.setData(self.xs[cut:], self.ys[cut:])

    def show_epochs(self, epochs: list[dict]) -> None:
        """A finished run's stored per-epoch rows."""
        from engine.types import EpochStats
        self.clear()
        for e in epochs:
            self.add(EpochStats(epoch=e["epoch"], epochs=len(epochs), loss=e.get("loss") or float("nan"),
                                val_recall10=e.get("val_recall10"), val_ndcg10=e.get("val_ndcg10")))
