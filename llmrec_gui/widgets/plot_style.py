"""Shared look of the app's plots (light background, readable on screenshots and high-DPI)."""
from __future__ import annotations

import pyqtgraph as pg

pg.setConfigOptions(antialias=True, background="w", foreground="#333")


def style_plot(plot) -> None:
    plot.showGrid(x=True, y=True, alpha=0.2)
    plot.setMenuEnabled(False)


def bar_brush():
    return pg.mkBrush("#4c78a8")

pg.setConfigOptions(imageAxisOrder="row-major")


def export_item(item, path: str) -> None:
    """Save a plot item to PNG or SVG (by extension) with pyqtgraph's exporters. pyqtgraph 0.14's
    SVGExporter cannot parse some paths Qt 6.12 writes; then Qt's own QSvgGenerator draws the item."""
    from pyqtgraph.exporters import ImageExporter, SVGExporter
    if not path.lower().endswith(".svg"):
        exporter = ImageExporter(item)
        exporter.parameters()["width"] = max(800, int(exporter.parameters()["width"]))
        exporter.export(path)
        return
    try:
        SVGExporter(item).export(path)
    except ValueError:
        _qt_svg(item, path)


def _qt_svg(item, path: str) -> None:
    from PySide6.QtCore import QRectF, QSize
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator
    rect = item.sceneBoundingRect()
    gen = QSvgGenerator()
    gen.setFileName(path)
    gen.setSize(QSize(int(rect.width()), int(rect.height())))
    gen.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
    painter = QPainter(gen)
    try:
        item.scene().render(painter, QRectF(0, 0, rect.width(), rect.height()), rect)
    finally:
        painter.end()
