"""Similarity heatmap of the current list (pyqtgraph ImageItem + ColorBarItem, as in pyqtgraph's
MatrixDisplayExample): short titles as ticks, hover tooltip with both titles and the value, click a
cell to select its item and outline the pair; the selected item is outlined. Long lists get a
smaller tick font so the labels stay apart. Updates with setImage, never rebuilt."""
from __future__ import annotations

import re

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QToolTip, QVBoxLayout, QWidget

from llmrec_gui.widgets.plot_style import export_item


def short_title(title: str, n: int = 18) -> str:
    """A tick label: the year dropped, elided at `n` characters; a repeated title keeps what tells it
    apart ("Saint… · Château Tal…")."""
    if " · " in title:
        base, label = title.split(" · ", 1)
        return f"{short_title(base, max(6, n - 13))} · {short_title(label, 12)}"   # the label is what matters
    t = re.sub(r"\s*\(\d{4}\)$", "", title)
    return t if len(t) <= n else t[: n - 1] + "…"


def tick_labels(titles: list[str], n: int = 18) -> list[str]:
    """Short tick labels; titles whose short labels would be the same keep their year ("The Mob (1976)",
    "The Mob (2019)"), the year being what tells them apart."""
    short = [short_title(t, n) for t in titles]
    seen = {s: short.count(s) for s in short}
    year = re.compile(r"\s*(\(\d{4}\))$")
    out = []
    for t, s in zip(titles, short):
        m = year.search(t)
        out.append(f"{short_title(t, max(2, n - 7))} {m.group(1)}" if seen[s] > 1 and m else s)   # still n long
    return out


def tick_font_size(k: int, height_px: int) -> int:
    """A point size that leaves each label its own row: about 1.3 lines of text per cell."""
    if k <= 0:
        return 9
    return int(max(6, min(9, height_px / k / 1.45)))


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
        self.pair = QGraphicsRectItem()          # the clicked pair's column, outlined in another colour
        pair_pen = QPen(QColor("#ffffff"))
        pair_pen.setWidthF(2.5)
        pair_pen.setCosmetic(True)
        self.pair.setPen(pair_pen)
        self.pair.setVisible(False)
        self.plot.addItem(self.pair)
        self.pair_cell: tuple[int, int] | None = None
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
        if k:
            self.image.setImage(shown.astype(np.float32), autoLevels=False)
            self.image.setRect(QRectF(0, 0, k, k))
        else:
            self.image.clear()
        self.colorbar.setLevels((lo, 1.0))
        ticks = [[(i + 0.5, s) for i, s in enumerate(short)]]
        self.tick_size = tick_font_size(k, max(self.plot.vb.height(), 300))
        font = self.font()
        font.setPointSize(self.tick_size)
        for name in ("left", "bottom"):
            self.plot.getAxis(name).setStyle(tickFont=font)
        self.plot.getAxis("left").setTicks(ticks)
        step = 1 if k <= 15 else 2 if k <= 25 else 5     # list positions below: two-digit numbers need room
        below = [(i + 0.5, str(i + 1)) for i in range(k) if i == 0 or (i + 1) % step == 0]
        self.plot.getAxis("bottom").setTicks([below])
        self.plot.setTitle(f"Similarity of the list ({space} space)")
        self.plot.setRange(xRange=(0, max(k, 1)), yRange=(0, max(k, 1)), padding=0)
        self.set_selected(self.selected if self.selected < k else -1)
        self.set_pair(-1, -1)

    def clear(self) -> None:
        self.set_matrix(np.zeros((0, 0)), [], [], "")

    def set_pair(self, row: int, col: int) -> None:
        """Outline the clicked cell's column too: both items of the pair are marked."""
        k = len(self.matrix)
        if 0 <= row < k and 0 <= col < k:
            self.pair_cell = (row, col)
            self.pair.setRect(QRectF(col, 0, 1, k))
            self.pair.setVisible(True)
        else:
            self.pair_cell = None
            self.pair.setVisible(False)

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
