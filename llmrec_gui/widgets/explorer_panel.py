"""The Explore view: pick a user, see their history and the recommendation list, move the
diversity slider (live re-ranking from cached candidates), the similarity heatmap, the list's
metrics and the frontier. Heavy steps (loading a run, scoring a user, the frontier sweep) run in
workers; re-ranking the cached candidates is milliseconds of numpy, done on the GUI thread,
throttled."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QSpinBox, QSplitter,
                               QTextBrowser, QVBoxLayout, QWidget)
from superqt import QLabeledDoubleSlider
from superqt.utils import qthrottled

from .. import workers
from ..explore_logic import METHODS, N_CANDIDATES, SPACES, ExploreSession, short_title
from .frontier_plot import FrontierPlot
from .heatmap_view import HeatmapView
from .history_view import HistoryView
from .metrics_view import MetricsView
from .rec_list import RecList
from .user_picker import UserPicker


class ExplorerPanel(QWidget):
    ready = Signal()              # a list is on screen for the current run and user
    list_updated = Signal(object)  # RecList

    def __init__(self, state, actions=None, parent=None):
        super().__init__(parent)
        self.state = state
        self.session: ExploreSession | None = None
        self.cands = None
        self.rec = None
        self.feedback: dict[int, tuple] = {}    # user -> ((item, kind), ...) in force
        self._load_job = self._cand_job = self._frontier_job = None
        settings = getattr(state, "settings", None)
        self.settings = settings
        self.auto_frontier = settings is None or str(settings.value("explore/auto_frontier", "true")) == "true"

        # controls
        self.slider = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0.0, 1.0)
        self.slider.setSingleStep(0.05)
        self.slider.setValue(0.0)
        self.slider.setToolTip("Diversity trade-off: 0 = the model's order, 1 = the most diverse list")
        self.method = QComboBox()
        for m in METHODS:
            self.method.addItem(m.upper(), m)
        self.method.setToolTip("MMR: maximal marginal relevance; DPP: determinantal point process (greedy MAP)")
        self.space = QComboBox()
        for s in SPACES:
            self.space.addItem(s, s)
        self.space.setToolTip("Similarity space of the heatmap: the model's item vectors, item text (TF-IDF), "
                              "or genres (Jaccard)")
        self.k = QSpinBox()
        self.k.setRange(5, 30)
        self.k.setValue(10)
        self.k.setToolTip("List length")
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Diversity:"))
        controls.addWidget(self.slider, 3)
        controls.addWidget(QLabel("Method:"))
        controls.addWidget(self.method)
        controls.addWidget(QLabel("Heatmap space:"))
        controls.addWidget(self.space)
        controls.addWidget(QLabel("k:"))
        controls.addWidget(self.k)

        self.users = UserPicker()
        self.history = HistoryView()
        self.list = RecList()
        self.detail = QTextBrowser()
        self.detail.setMaximumHeight(90)
        self.detail.setPlaceholderText("Select an item to see why it is recommended.")
        self.heatmap = HeatmapView()
        self.metrics = MetricsView()
        self.frontier = FrontierPlot()
        self.status = QLabel("No run selected.")
        self.status.setWordWrap(True)

        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self._titled("Users", self.users))
        left.addWidget(self._titled("History (most recent first)", self.history))
        middle = QWidget()
        ml = QVBoxLayout(middle)
        ml.setContentsMargins(0, 0, 0, 0)
        ml.addWidget(QLabel("<b>Recommendations</b> (◆ = promoted for diversity; hover for why)"))
        ml.addWidget(self.list, 1)
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
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(middle)
        split.addWidget(right)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 5)
        split.setStretchFactor(2, 4)
        split.setSizes([270, 520, 470])
        split.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.addLayout(controls)
        lay.addWidget(split, 1)
        lay.addWidget(self.status)

        if settings is not None:
            try:
                self.slider.setValue(min(1.0, max(0.0, float(settings.value("explore/tradeoff", 0.0)))))
            except (TypeError, ValueError):
                pass
            i = self.method.findData(settings.value("explore/method", "mmr"))
            self.method.setCurrentIndex(max(i, 0))

        # wiring
        self._throttled_update = qthrottled(self.update_list, timeout=40, leading=True)
        self.slider.valueChanged.connect(lambda _v: self._throttled_update())
        self.method.currentIndexChanged.connect(self._method_changed)
        self.space.currentIndexChanged.connect(lambda _i: self.update_list())
        self.k.valueChanged.connect(lambda _v: self.update_list())
        self.users.user_picked.connect(state.select_user)
        self.list.row_selected.connect(self._row_selected)
        self.list.feedback_given.connect(self.give_feedback)
        self.heatmap.cell_clicked.connect(lambda r, _c: self.list.select_position(r))
        state.run_changed.connect(self._run_changed)
        state.user_changed.connect(self._user_changed)
        QShortcut(QKeySequence("Ctrl+U"), self, activated=self.users.search.setFocus)
        if actions is not None:
            actions.like.triggered.connect(lambda: self._feedback_selected("like"))
            actions.dislike.triggered.connect(lambda: self._feedback_selected("dislike"))
            actions.export_list.triggered.connect(lambda: self._export("list"))
            actions.export_metrics.triggered.connect(lambda: self._export("metrics"))
            actions.export_heatmap.triggered.connect(lambda: self._export("heatmap"))
            actions.export_frontier.triggered.connect(lambda: self._export("frontier"))

    @staticmethod
    def _titled(title: str, w: QWidget) -> QWidget:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(QLabel(f"<b>{title}</b>"))
        lay.addWidget(w)
        return box

    # ---- run -------------------------------------------------------------------------
    def _run_changed(self, info) -> None:
        self.session, self.cands, self.rec = None, None, None
        for job in (self._load_job, self._cand_job, self._frontier_job):
            if job is not None:
                job.cancel()
        if info is None:
            self.status.setText("No run for this dataset yet: train one in the Train view.")
            return
        self.status.setText(f"Loading run {info.id} ({info.model})…")
        self._load_job = workers.run_async(ExploreSession.load, self.state.store, info.id,
                                           on_done=self._session_loaded, on_error=self._failed)

    def _session_loaded(self, session: ExploreSession) -> None:
        run = self.state.run
        if run is None or session.info.id != run.id:
            return
        self.session = session
        self.list.set_genres_label(session.ds.info.genres_label)
        self.users.set_user_arrays(session.ds.user_ids, session.user_counts)
        saved = self.state.saved_user()
        user = saved if saved is not None and 0 <= saved < session.ds.n_users else session.default_user()
        self.status.setText(f"Run {run.id}: {run.model} on {run.dataset_name}. "
                            f"Candidates: top {N_CANDIDATES} by score, re-ranked live.")
        self.state.user = None
        self.state.select_user(user)
        if self.auto_frontier:
            self._start_frontier()

    # ---- user and candidates ---------------------------------------------------------
    def _user_changed(self, user: int) -> None:
        if self.session is None:
            return
        self.users.select(user)
        self._score_user(user, load_feedback=user not in self.feedback)

    def _score_user(self, user: int, load_feedback: bool = False) -> None:
        session, store = self.session, self.state.store
        dataset_id = session.ds.info.id
        given = self.feedback.get(user, ())

        def job():
            fb = given
            if load_feedback:
                from engine.feedback import list_feedback
                fb = tuple((e.item, e.kind) for e in store.call(list_feedback, dataset_id, user))
            return session.candidates(user, fb)

        if self._cand_job is not None:
            self._cand_job.cancel()
        self._cand_job = workers.run_async(job, on_done=self._candidates_ready, on_error=self._failed)

    def _candidates_ready(self, cands) -> None:
        if self.session is None or cands.user != self.state.user:
            return
        self.cands = cands
        self.feedback[cands.user] = cands.feedback
        from engine.data.dataset import NO_TIMESTAMP
        self.history.set_history([self.session.ds.titles[i] for i in cands.history_items], cands.history_ratings,
                                 cands.history_times, NO_TIMESTAMP)
        self.update_list()

    # ---- the list (live) -------------------------------------------------------------
    def update_list(self) -> None:
        """Re-rank the cached candidates and update list, heatmap, metrics and frontier mark together."""
        if self.session is None or self.cands is None:
            return
        t = float(self.slider.value())
        try:
            rec = self.session.make_list(self.cands, k=self.k.value(), tradeoff=t, method=self.method.currentData(),
                                         space=self.space.currentData())
        except Exception as exc:  # a bad combination must not crash the view
            self._failed(f"{type(exc).__name__}: {exc}")
            return
        self.rec = rec
        if self.settings is not None:
            self.settings.setValue("explore/tradeoff", t)
            self.settings.setValue("explore/method", rec.method)
        self.list.set_list(rec)
        self.heatmap.set_matrix(rec.similarity, rec.titles, [short_title(x) for x in rec.titles], rec.space)
        self.heatmap.set_selected(self.list.current_row())
        self.metrics.set_metrics(rec.metrics)
        self.frontier.mark(t)
        if self.list.current_row() < 0 and len(rec.items):
            self.list.select_position(0)
        self._row_selected(self.list.current_row())
        self.list_updated.emit(rec)
        self.ready.emit()

    def _row_selected(self, row: int) -> None:
        self.heatmap.set_selected(row)
        if self.rec is not None and 0 <= row < len(self.rec.items):
            self.detail.setPlainText(f"{self.rec.titles[row]} — {', '.join(self.rec.genres[row])}\n"
                                     f"{self.rec.explanations[row]}")

    def _method_changed(self) -> None:
        self.update_list()
        if self.auto_frontier:
            self._start_frontier()

    # ---- feedback --------------------------------------------------------------------
    def give_feedback(self, item: int, kind: str) -> None:
        """Apply like/dislike at once (re-score from the cached model), and store it in a worker."""
        if self.session is None or self.state.user is None:
            return
        user, dataset_id, store = self.state.user, self.session.ds.info.id, self.state.store
        self.feedback[user] = tuple(self.feedback.get(user, ())) + ((int(item), kind),)

        from engine.feedback import record_feedback
        workers.run_async(record_feedback, store, dataset_id, user, item, kind, on_error=self._failed)
        self.state.message.emit(f"{kind.capitalize()}d “{self.session.ds.titles[item]}”; list updated.")
        self._score_user(user)

    def _feedback_selected(self, kind: str) -> None:
        item = self.list.selected_item()
        if item is not None:
            self.give_feedback(item, kind)

    # ---- frontier --------------------------------------------------------------------
    def start_frontier(self) -> None:
        """Compute the frontier sweep of the current run and method (in a worker)."""
        self._start_frontier()

    def _start_frontier(self) -> None:
        if self.session is None:
            return
        if getattr(self.session.loaded, "split", None) is None:
            self.frontier.set_message("Frontier: needs a run with a holdout")
            return
        if self._frontier_job is not None:
            self._frontier_job.cancel()
        method, session = self.method.currentData(), self.session
        self.frontier.set_message("Frontier: computing…")
        self._frontier_job = workers.run_async(session.frontier, method, engine_style=True,
                                               on_done=lambda rows: self._frontier_ready(session, method, rows),
                                               on_error=lambda m: self.frontier.set_message("Frontier failed"))

    def _frontier_ready(self, session, method, rows) -> None:
        if session is not self.session or method != self.method.currentData() or not rows:
            return
        ild_key = next((k for k in rows[0] if k.startswith("ild") and k.endswith("@10")), None)
        if ild_key is None:
            self.frontier.set_message("Frontier: no ILD in the sweep")
            return
        self.frontier.set_rows(rows, ild_key)
        self.frontier.mark(float(self.slider.value()))

    # ---- export ----------------------------------------------------------------------
    def _export(self, what: str, path: str | None = None) -> str | None:
        if self.rec is None:
            return None
        filters = {"list": "CSV (*.csv)", "metrics": "JSON (*.json)", "heatmap": "PNG (*.png);;SVG (*.svg)",
                   "frontier": "PNG (*.png);;SVG (*.svg)"}[what]
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, f"Export {what}", "", filters)
            if not path:
                return None
        from .. import export
        user_id = str(self.session.ds.user_ids[self.rec.user])
        if what == "list":
            export.write_list_csv(path, self.rec, self.session.ds.item_ids)
        elif what == "metrics":
            export.write_metrics_json(path, self.rec, run_id=self.session.info.id, user_id=user_id)
        elif what == "heatmap":
            self.heatmap.export(path)
        else:
            self.frontier.export(path)
        self.state.message.emit(f"Saved {path}")
        return path

    def _failed(self, msg: str) -> None:
        self.status.setText(f"Error: {msg}")
        self.state.error.emit(msg)

    def is_complete(self) -> bool:
        """A list is shown and, when the frontier is computed automatically, the frontier too."""
        return self.rec is not None and (not self.auto_frontier or bool(self.frontier.rows)
                                         or self.frontier.plot.titleLabel.text.startswith("Frontier: needs"))

    def shutdown(self) -> None:
        for job in (self._load_job, self._cand_job, self._frontier_job):
            if job is not None:
                job.cancel()
