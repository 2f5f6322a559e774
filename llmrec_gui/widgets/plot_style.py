"""Shared look of the app's plots (light background, readable on screenshots and high-DPI)."""
from __future__ import annotations

import pyqtgraph as pg

pg.setConfigOptions(antialias=True, background="w", foreground="#333")


def style_plot(plot) -> None:
    plot.showGrid(x=True, y=True, alpha=0.2)
    plot.setMenuEnabled(False)


def bar_brush():
    return pg.mkBrush("#4c78a8")
