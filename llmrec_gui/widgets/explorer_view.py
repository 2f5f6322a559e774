"""The Explore view's working area: users, history and feedback on the left; search, the list and
its explanations in the middle; heatmap, metrics and frontier on the right. Layout and display only:
the panel decides what to show."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSplitter, QTextBrowser, QVBoxLayout, QWidget

from llmrec_gui.widgets.feedback_history import FeedbackHistory
from llmrec_gui.widgets.frontier_plot import FrontierPlot
from llmrec_gui.widgets.heatmap_view import HeatmapView, tick_labels
from llmrec_gui.widgets.history_view import HistoryView
from llmrec_gui.widgets.metrics_view import MetricsView
from llmrec_gui.widgets.plain_words import PlainWordsLine
from llmrec_gui.widgets.rec_list import RecList
from llmrec_gui.widgets.search_box import SearchBox
from llmrec_gui.widgets.user_picker import UserPicker


def metrics_dict(m, categories: str = "genres") -> dict:
    """The engine's ListMetrics as the rows the metrics box shows (`categories`: the dataset's own name for
    its genres, e.g. "categories" for wines: one name for one thing everywhere)."""
    out = {f"ILD ({categories})": m.ild_genre}
    if m.space != "categories":            # re-ranked over the categories: the same figure, shown once
        out[f"ILD ({m.space})"] = m.ild_model
    return {**out, f"mean cosine ({categories if m.space == 'categories' else m.space})": m.mean_cosine,
            "novelty": m.novelty}


def titled(title: str, w: QWidget) -> QWidget:
    box = QWidget()
    lay = QVBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(QLabel(f"<b>{title}</b>"))
    lay.addWidget(w)
    return box


def rows_height(view, rows: int) -> int:
    """The height a table or list needs to show `rows` rows with its header and frame."""
    row = view.fontMetrics().height() + 8
    header = getattr(view, "header", None) or getattr(view, "horizontalHeader", None)
    head = header().sizeHint().height() if header is not None else 0
    return head + rows * row + 2 * view.frameWidth()


class ExplorerView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.titles = None             # engine ShownTitles of the run's dataset: repeated titles told apart
        self.categories = "genres"     # the dataset's name for its categories, lower case (set per run)
        self.users = UserPicker()
        self.history = HistoryView()
        self.feedback_view = FeedbackHistory()
        self.list = RecList()
        self.detail = QTextBrowser()
        self.detail.setMaximumHeight(90)
        self.detail.setPlaceholderText("Select an item to see why it is recommended.")
        self.heatmap = HeatmapView()
        self.metrics = MetricsView()
        self.frontier = FrontierPlot()
        self.search = SearchBox()
        self.plain_words = PlainWordsLine()

        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(titled("Users", self.users))
        left.addWidget(titled("History (most recent first)", self.history))
        left.addWidget(titled("Your feedback (Ctrl+Z undoes the latest)", self.feedback_view))
        for i, stretch in enumerate((3, 3, 2)):
            left.setStretchFactor(i, stretch)
        for table in (self.users.view, self.history, self.feedback_view):   # at least 4 rows each, any window
            table.setMinimumHeight(rows_height(table, 4))
        left.setChildrenCollapsible(False)
        self.left_split = left
        middle = QWidget()
        ml = QVBoxLayout(middle)
        ml.setContentsMargins(0, 0, 0, 0)
        ml.addWidget(self.search)
        ml.addWidget(QLabel("<b>Recommendations</b> (◆ = promoted for diversity; hover for why; right-click "
                            "for more)"))
        ml.addWidget(self.list, 1)
        ml.addWidget(self.plain_words)
        ml.addWidget(self.detail)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.heatmap)
        bottom = QWidget()
        bl = QHBoxLayout(bottom)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addWidget(self.metrics)
        bl.addWidget(self.frontier, 1)
        right.addWidget(bottom)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        right.setChildrenCollapsible(False)
        self.heatmap.setMinimumHeight(200)
        bottom.setMinimumHeight(160)
        self.right_split = right
        split = QSplitter(Qt.Orientation.Horizontal)
        for w, stretch in ((left, 2), (middle, 5), (right, 4)):
            split.addWidget(w)
            split.setStretchFactor(split.count() - 1, stretch)
        split.setSizes([300, 500, 460])
        split.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)

    def clear(self) -> None:
        """Nothing loaded: empty every part."""
        self.list.setRowCount(0)
        self.list.items = []
        self.history.setRowCount(0)
        self.feedback_view.set_entries([], [])
        self.users.set_users([])
        self.heatmap.clear()
        self.frontier.set_message("Frontier: no run")

    def show_list(self, rec, sim, space: str, tradeoff: float) -> None:
        """List, heatmap, metrics and the frontier's mark of one re-ranked list, together."""
        titles = [r.title if self.titles is None else self.titles[r.item] for r in rec.rows]
        self.list.set_list(rec, titles)
        what = self.categories if space == "genres" else space
        self.heatmap.set_matrix(sim, titles, tick_labels(titles, 12 if len(titles) > 15 else 18),
                                what)
        self.metrics.set_metrics(metrics_dict(rec.metrics, self.categories))
        self.frontier.mark(tradeoff)
        if self.list.current_row() < 0 and rec.rows:
            self.list.select_position(0)
        self.heatmap.set_selected(self.list.current_row())

    def show_frontier(self, curves: dict[str, list[dict]], space: str, tradeoff: float) -> None:
        """The frontier sweeps by re-ranking space (dicts of metrics by trade-off); `space`'s curve is the
        slider's (drawn bold and marked), the others dashed."""
        rows = curves.get(space) or next(iter(curves.values()), [])
        ild_key = "ild_genre@10" if rows and "ild_genre@10" in rows[0] else None
        if ild_key is None:
            self.frontier.set_message("Frontier: no ILD in the sweep")
            return
        def name(s):
            return self.categories if s == "categories" else s
        self.frontier.plot.setLabel("bottom", f"ILD@10 ({self.categories})")
        self.frontier.set_rows(rows, ild_key, label=name(space),
                               others={name(s): r for s, r in curves.items() if s != space and r})
        self.frontier.mark(tradeoff)
