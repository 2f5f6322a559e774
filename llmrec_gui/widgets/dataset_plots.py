"""Plots of one dataset: rating histogram, long tails (log scale) and genre (or category) distribution."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from llmrec_gui.widgets.plot_style import bar_brush, style_plot


def log_ticks(lo: float, hi: float) -> list[tuple[float, str]]:
    """Ticks at 1, 2, 5 x 10^k between 10^lo and 10^hi, labelled as plain numbers (log10 axis)."""
    out = []
    for k in range(int(np.floor(lo)) - 1, int(np.ceil(hi)) + 1):
        for m in (1, 2, 5):
            v = m * 10.0 ** k
            if 10 ** lo * 0.9 <= v <= 10 ** hi * 1.1:
                out.append((float(np.log10(v)), f"{v:g}"))
    return out


GENRE_BARS = 30


def genre_bars(genres: list[tuple[str, int]], limit: int = GENRE_BARS, what: str = "genres") -> list[tuple[str, int]]:
    """Every genre as a bar; past `limit`, the rarest are folded into one bar that says how many
    (never dropped silently)."""
    if len(genres) <= limit:
        return list(genres)
    rest = genres[limit - 1:]
    return list(genres[:limit - 1]) + [(f"{len(rest)} other {what}", sum(c for _, c in rest))]


def _singular(plural: str) -> str:
    """'genres' -> 'genre', 'categories' -> 'category' (plot titles name one bar's kind)."""
    if plural.endswith("ies"):
        return plural[:-3] + "y"
    return plural[:-1] if plural.endswith("s") else plural


class DatasetPlots(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.view = pg.GraphicsLayoutWidget()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.view)
        self.ratings = self.view.addPlot(title="Ratings")
        self.genres = self.view.addPlot(title="Items per genre")
        self.view.nextRow()
        self.items = self.view.addPlot(title="Interactions per item (long tail)")
        self.users = self.view.addPlot(title="Interactions per user (long tail)")
        for p in (self.ratings, self.genres, self.items, self.users):
            style_plot(p)
        self.ratings.setLabel("left", "interactions")
        self.ratings.setLabel("bottom", "rating")
        self.genres.setLabel("bottom", "items")
        for p in (self.items, self.users):
            p.setLabel("left", "interactions (log scale)")
        self.items.setLabel("bottom", "item rank")
        self.users.setLabel("bottom", "user rank")

    def show_stats(self, st) -> None:
        for p in (self.ratings, self.genres, self.items, self.users):
            p.clear()
        if len(st.rating_values):
            x = np.arange(len(st.rating_values))
            self.ratings.addItem(pg.BarGraphItem(x=x, height=st.rating_counts, width=0.8, brush=bar_brush()))
            self.ratings.getAxis("bottom").setTicks([[(i, f"{v:g}") for i, v in enumerate(st.rating_values)]])
        else:
            self.ratings.setTitle("Ratings (implicit data: no ratings)")
        for plot, counts, color, who in ((self.items, st.per_item, "#1f77b4", "item"),
                                         (self.users, st.per_user, "#ff7f0e", "user")):
            counts = np.asarray(counts)
            ranks = np.arange(1, len(counts) + 1)[counts > 0]       # a log axis has no 0: zero counts are
            y = np.log10(counts[counts > 0])                        # left out and counted in the title
            plot.plot(ranks, y, pen=pg.mkPen(color, width=2))
            plot.getAxis("left").setTicks([log_ticks(max(0.0, float(y.min(initial=0))), float(y.max(initial=1)))])
            none = int(len(counts) - len(ranks))
            plot.setTitle(f"Interactions per {who} (long tail" + (f"; {none:,} {who}{'' if none == 1 else 's'} with none)" if none else ")"))
        what = st.genres_label.lower()
        self.genres.setTitle(f"Items per {_singular(what)}")
        top = genre_bars(st.genres, what=what)
        if top:
            y = np.arange(len(top))
            self.genres.setTitle(f"Items per {_singular(what)} ({len(st.genres)} {what})")
            self.genres.addItem(pg.BarGraphItem(x0=0, y=y, height=0.7, width=[c for _, c in top], brush=bar_brush()))
            axis = self.genres.getAxis("left")
            font = self.font()
            font.setPointSize(9 if len(top) <= 20 else 7)
            axis.setStyle(tickFont=font)
            axis.setTicks([[(i, g) for i, (g, _) in enumerate(top)]])
            self.genres.setYRange(-0.6, len(top) - 0.4, padding=0)
            self.genres.invertY(True)
        else:
            self.genres.setTitle(f"Items per {_singular(what)} (no {what})")
