"""Similarity heatmap of the current list (pyqtgraph ImageItem + ColorBarItem, as in pyqtgraph's
MatrixDisplayExample): short titles as ticks, hover tooltip with both titles and the value, click a
cell to select its item; the selected item is outlined. Updates with setImage, never rebuilt."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtGui import QPen, QColor
from PySide6.QtWidgets import QGraphicsRectItem, QToolTip, QVBoxLayout, QWidget

from .plot_style import export_item


class HeatmapView(QWidget):
    cell_clicked = Signal(int, int)   # row, column (list positions)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot_widget = pg.PlotWidget()
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.invertY(True)
        self.plot.vb.disableAutoRange()
        self.plot.showAxes(True, showValues=(True, False, False, True))
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get("viridis"), interactive=False,
                                        width=12)
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        self.highlight = QGraphicsRectItem()
        pen = QPen(QColor("#e4572e"))
        pen.setWidthF(3)
        pen.setCosmetic(True)
        self.highlight.setPen(pen)
        self.highlight.setVisible(False)
        self.plot.addItem(self.highlight)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot_widget)
        self.matrix = np.zeros((0, 0))
        self.titles: list[str] = []
        self.selected = -1
        scene = self.plot_widget.scene()
        scene.sigMouseMoved.connect(self._hover)
        scene.sigMouseClicked.connect(self._click)

    def set_matrix(self, matrix: np.ndarray, titles: list[str], short: list[str], space: str) -> None:
        m = np.asarray(matrix, dtype=np.float64)
        self.matrix, self.titles = m, list(titles)
        k = len(m)
        shown = np.nan_to_num(m, nan=0.0)
        lo = min(0.0, float(shown.min())) if k else 0.0
        self.image.setImage(shown.astype(np.float32), autoLevels=False)
        self.image.setRect(QRectF(0, 0, k, k))
        self.colorbar.setLevels((lo, 1.0))
        ticks = [[(i + 0.5, s) for i, s in enumerate(short)]]
        self.plot.getAxis("left").setTicks(ticks)
        self.plot.getAxis("bottom").setTicks([[(i + 0.5, str(i + 1)) for i in range(k)]])
        self.plot.setTitle(f"Similarity of the list ({space} space)")
        self.plot.setRange(xRange=(0, max(k, 1)), yRange=(0, max(k, 1)), padding=0)
        self.set_selected(self.selected if self.selected < k else -1)

    def set_selected(self, row: int) -> None:
        """Outline the row and column of the item selected in the list."""
        self.selected = row
        k = len(self.matrix)
        if 0 <= row < k:
            self.highlight.setRect(QRectF(0, row, k, 1))
            self.highlight.setVisible(True)
        else:
            self.highlight.setVisible(False)

    def cell_at(self, scene_pos) -> tuple[int, int] | None:
        if not self.plot.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.plot.vb.mapSceneToView(scene_pos)
        col, row = int(np.floor(p.x())), int(np.floor(p.y()))
        k = len(self.matrix)
        return (row, col) if 0 <= row < k and 0 <= col < k else None

    def cell_center_scene(self, row: int, col: int) -> QPointF:
        return self.plot.vb.mapViewToScene(QPointF(col + 0.5, row + 0.5))

    def tooltip_text(self, row: int, col: int) -> str:
        v = self.matrix[row, col]
        value = "n/a (an item has no genre)" if v != v else f"{v:.3f}"
        return f"{self.titles[row]}\n{self.titles[col]}\nsimilarity: {value}"

    def _hover(self, scene_pos) -> None:
        cell = self.cell_at(scene_pos)
        if cell is None:
            QToolTip.hideText()
            return
        text = self.tooltip_text(*cell)
        self.plot_widget.setToolTip(text)
        view_pos = self.plot_widget.mapFromScene(scene_pos)
        QToolTip.showText(self.plot_widget.mapToGlobal(view_pos), text, self.plot_widget)

    def _click(self, event) -> None:
        cell = self.cell_at(event.scenePos())
        if cell is not None:
            self.cell_clicked.emit(*cell)

    def export(self, path: str) -> None:
        export_item(self.plot, path)
