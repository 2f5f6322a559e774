"""The Explore view: pick a user, see their history, feedback and recommendation list, move the
diversity slider (live re-ranking), the similarity heatmap, the list's metrics and the frontier.

The list is the engine's ``UserRecommendations`` (the object behind `llmrec explore`): built in a
worker from plain data (the loaded run, the user's feedback read through a store function),
re-ranked on the GUI thread (milliseconds of numpy, throttled). Feedback is written through
module-level engine functions that return the user's active feedback; the live list is then
re-scored in a worker and swapped in whole. The panel keeps no feedback state of its own."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QComboBox, QFileDialog, QHBoxLayout, QLabel, QSpinBox, QSplitter,
                               QStackedWidget, QTextBrowser, QVBoxLayout, QWidget)
from superqt import QLabeledDoubleSlider
from superqt.utils import qthrottled

from llmrec_gui import workers
from llmrec_gui.widgets.empty_state import EmptyState
from llmrec_gui.widgets.feedback_history import FeedbackHistory
from llmrec_gui.widgets.frontier_plot import FrontierPlot
from llmrec_gui.widgets.heatmap_view import HeatmapView, short_title
from llmrec_gui.widgets.history_view import HistoryView
from llmrec_gui.widgets.metrics_view import MetricsView
from llmrec_gui.widgets.plain_words import PlainWordsLine
from llmrec_gui.widgets.rec_list import RecList
from llmrec_gui.widgets.search_box import SearchBox
from llmrec_gui.widgets.user_picker import UserPicker

SPACES = ("model", "text", "genres")
METHODS = {"mmr": "MMR", "dpp": "DPP", "calibration": "Calibrated"}
METHOD_TIPS = ("MMR: maximal marginal relevance; DPP: determinantal point process (greedy MAP); "
               "Calibrated: match the user's genre mix (Steck 2018)")


def metrics_dict(m) -> dict:
    """The engine's ListMetrics as the rows the metrics box shows."""
    return {"ILD (genres)": m.ild_genre, f"ILD ({m.space})": m.ild_model,
            "mean pairwise cosine": m.mean_cosine, "novelty": m.novelty}


class ExplorerPanel(QWidget):
    ready = Signal()               # a list is on screen for the current run and user
    list_updated = Signal(object)  # engine RecList
    fit_requested = Signal()       # the empty state's "Fit baselines"
    train_requested = Signal()     # the empty state's "Train…"

    def __init__(self, state, actions=None, parent=None):
        super().__init__(parent)
        self.state = state
        self.app_actions = actions
        self.run = None            # engine.runs.loaded.LoadedRun on screen
        self.live = None           # engine.explore.live_list.UserRecommendations of the current user
        self.rec = None            # engine.explore.live_list.RecList on screen
        self._gen = 0              # bumps on every run/user change: late results are dropped
        self._jobs: list = []
        self._frontier_job = None
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
        for m, label in METHODS.items():
            self.method.addItem(label, m)
        self.method.setToolTip(METHOD_TIPS)
        self.space = QComboBox()
        for s in SPACES:
            self.space.addItem(s, s)
        self.space.setToolTip("Similarity space of the heatmap: the model's item vectors, item text (TF-IDF), "
                              "genres (Jaccard), or semantic (the language model; once the catalogue is encoded)")
        self.k = QSpinBox()
        self.k.setRange(5, 30)
        self.k.setValue(10)
        self.k.setToolTip("List length")
        controls = QHBoxLayout()
        for label, w, stretch in (("Diversity:", self.slider, 3), ("Method:", self.method, 0),
                                  ("Heatmap space:", self.space, 0), ("k:", self.k, 0)):
            controls.addWidget(QLabel(label))
            controls.addWidget(w, stretch)

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
        self.status = QLabel("No run selected.")
        self.status.setWordWrap(True)
        self.empty = EmptyState()
        self.empty.fit_requested.connect(self.fit_requested.emit)
        self.empty.train_requested.connect(self.train_requested.emit)

        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self._titled("Users", self.users))
        left.addWidget(self._titled("History (most recent first)", self.history))
        left.addWidget(self._titled("Your feedback (Ctrl+Z undoes the latest)", self.feedback_view))
        left.setStretchFactor(0, 3)
        left.setStretchFactor(1, 3)
        left.setStretchFactor(2, 1)
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
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(middle)
        split.addWidget(right)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 5)
        split.setStretchFactor(2, 4)
        split.setSizes([300, 500, 460])
        split.setChildrenCollapsible(False)
        main = QWidget()
        mlay = QVBoxLayout(main)
        mlay.setContentsMargins(0, 0, 0, 0)
        mlay.addLayout(controls)
        mlay.addWidget(split, 1)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(main)
        lay = QVBoxLayout(self)
        lay.addWidget(self.stack, 1)
        lay.addWidget(self.status)
        self._show_empty("No run selected.", actions=False)

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
        self.users.user_picked.connect(self._user_picked)
        self.list.row_selected.connect(self._row_selected)
        self.list.feedback_given.connect(self.give_feedback)
        self.list.undo_requested.connect(self.undo)
        self.feedback_view.undo_requested.connect(self.undo)
        self.heatmap.cell_clicked.connect(self._cell_clicked)
        state.dataset_changed.connect(self._dataset_changed)
        self.search.vectors_ready.connect(self._semantic_ready)
        self.plain_words.feedback_changed.connect(lambda u: self.reload_user() if u == self.state.user else None)
        state.run_changed.connect(self._run_changed)
        state.store_changed.connect(self._store_changed)
        state.index_built.connect(self._index_built)
        state.user_changed.connect(self._user_changed)
        QShortcut(QKeySequence("Ctrl+U"), self, activated=self.users.search.setFocus)
        if actions is not None:
            actions.like.triggered.connect(lambda: self._feedback_selected("like"))
            actions.dislike.triggered.connect(lambda: self._feedback_selected("dislike"))
            actions.not_interested.triggered.connect(lambda: self._feedback_selected("not_interested"))
            actions.undo.triggered.connect(lambda: self.undo())
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

    # ---- jobs --------------------------------------------------------------------------
    def _start(self, fn, *args, on_done, **kwargs):
        """Run `fn` in a worker; its result reaches `on_done` only if nothing changed meanwhile."""
        gen = self._gen
        job = workers.run_async(fn, *args, on_done=lambda r: gen == self._gen and on_done(r),
                                on_error=lambda m: gen == self._gen and self._failed(m), **kwargs)
        self._jobs = [j for j in self._jobs if j in workers._live] + [job]
        return job

    def _cancel_jobs(self) -> None:
        self._gen += 1
        for job in self._jobs + [self._frontier_job]:
            if job is not None:
                job.cancel()
        self._jobs = []

    # ---- empty and stale states --------------------------------------------------------------
    def _show_empty(self, text: str, actions: bool) -> None:
        self.run, self.live, self.rec = None, None, None
        self.list.setRowCount(0)
        self.list.items = []
        self.history.setRowCount(0)
        self.feedback_view.set_entries([], [])
        self.users.set_users([])
        self.heatmap.clear()
        self.frontier.set_message("Frontier: no run")
        self.empty.show_message(text, actions)
        self.stack.setCurrentWidget(self.empty)
        self.status.setText(text)
        self._update_actions()

    def _dataset_changed(self, info) -> None:
        if self.run is not None and info is not None and self.run.info.dataset_id == info.id:
            return    # the same dataset re-read (F5): keep the view until its run is known
        self._cancel_jobs()
        self._show_empty("Loading…" if info is not None else "No dataset yet: import one (File ▸ Import data…).",
                         actions=False)

    def _run_changed(self, info) -> None:
        if info is None:
            self._cancel_jobs()
            ds = self.state.dataset
            if ds is None:
                self._show_empty("No dataset yet: import one (File ▸ Import data…).", actions=False)
            elif getattr(self.state, "fitting_baseline", None) == ds.id:
                self._show_empty(f"No model for this dataset yet ({ds.name}): fitting the fast EASE baseline "
                                 "in the background…", actions=False)
            else:
                self._show_empty(f"No model for this dataset yet ({ds.name}).\nFit the fast baselines "
                                 "(seconds) or train the LSTM model.", actions=True)
            return
        if self.run is not None and self.run.info.id == info.id:
            # F5 on the same run: keep the loaded run, re-read the user's feedback only
            user = self.state.user if self.state.user is not None else getattr(self.live, "user", None)
            if user is not None:
                self.state.user = None
                self.state.select_user(user)
            return
        self._cancel_jobs()
        self._show_empty(f"Loading run {info.id} ({info.model})…", actions=False)
        # a lean run: the store process sends the users, the catalogue and the run's counts (streamed
        # once per dataset over blocks of users, or kept by its training), never the interaction table;
        # each pick reads its user there. The model files are read here (no copy of the item vectors
        # between the processes), and the per-run caches are built before the first pick.
        from engine.explore.live_list import open_explore_run_for_live
        from engine.runs.lean import explore_parts
        self._start(explore_parts, self.state.store, info.id, engine_style=True,
                    on_progress=lambda p, i=info: self._loading(i, p),
                    on_done=lambda parts: self._start(open_explore_run_for_live, *parts, on_done=self._run_loaded))

    def _loading(self, info, p) -> None:
        """A dataset's first open counts its interactions (streamed once, then kept in a file)."""
        if self.run is None and self.state.run is not None and self.state.run.id == info.id:
            text = (f"Loading run {info.id} ({info.model}): {p.stage} {p.done:,} of {p.total:,} "
                    "(once per dataset)…")
            self.empty.show_message(text, False)
            self.status.setText(text)

    def _store_changed(self, store) -> None:
        """A reopened store (its process had stopped): the run on screen reads its users there from now on."""
        if self.run is None or getattr(self.run.source.store, "url", None) != getattr(store, "url", None):
            return                           # nothing loaded, or another database (its own run comes)
        self.run.source.store = store
        self.search.store = store
        self.plain_words.store = store
        self._show_status()

    def _run_loaded(self, loaded) -> None:
        run = self.state.run
        if run is None or loaded.info.id != run.id:
            return
        import numpy as np
        from engine.explore.live_list import default_user
        loaded.source.store = self.state.store       # each user's interactions: a store call (in workers)
        self.run = loaded
        ds = loaded.dataset
        self.list.set_genres_label(ds.info.genres_label)
        self.search.set_context(self.state.store, ds)
        self.users.set_user_arrays(ds.user_ids, loaded.source.counts.per_user)
        self.stack.setCurrentIndex(1)
        user = None
        want = getattr(self.state, "prefer_user", None)
        if want is not None:
            self.state.prefer_user = None
            hit = np.flatnonzero(ds.user_ids == str(want))
            if len(hit):
                user = int(hit[0])
            else:
                self._failed(f"no user {want!r} in dataset {ds.info.name!r}")
        if user is None:
            saved = self.state.saved_user()
            user = saved if saved is not None and 0 <= saved < ds.n_users else default_user(loaded)
        self._show_status()
        self.state.user = None
        self.state.select_user(user)
        if self.auto_frontier:
            self._start_frontier()

    def _show_status(self) -> None:
        """The run and where its candidates come from: the ANN index (kind, nprobe, recall) or exact scoring."""
        run = self.run
        if run is None:
            return
        info = run.index_info() if run.use_index else None
        where = (f"top 100 from the ANN index ({info['summary']})" if info and info.get("n_items") == run.model.n_items
                 else "top 100 by score (exact)")
        self.status.setText(f"Run {run.info.id}: {run.info.model} on {run.info.dataset_name}. "
                            f"Candidates: {where}, re-ranked live.")

    def _index_built(self, run_id: int) -> None:
        """The run on screen got a (new) index: use it from now on, and re-score the user with it."""
        if self.run is None or self.run.info.id != run_id:
            return
        self.run.forget_index()
        self._show_status()
        self._gen += 1
        self.live = None
        self.reload_user()

    # ---- user and the live list ------------------------------------------------------------
    def _user_picked(self, user: int) -> None:
        if user == self.state.user:
            self.reload_user()        # re-selecting the user re-reads feedback given elsewhere
        else:
            self.state.select_user(user)

    def _user_changed(self, user: int) -> None:
        if self.run is None:
            return
        self.users.select(user)
        self._gen += 1
        self.live = None
        self.reload_user()

    def reload_user(self) -> None:
        """Read the user's feedback from the database and rebuild the live list (worker)."""
        if self.run is None or self.state.user is None:
            return
        from engine.explore.feedback import list_feedback
        user, ds_id = self.state.user, self.run.info.dataset_id
        self._start(list_feedback, self.state.store, ds_id, user, on_done=self._apply_feedback)

    def _apply_feedback(self, entries) -> None:
        """Re-score the live list with `entries` in force (worker), then show it."""
        run, user = self.run, self.state.user
        if run is None or user is None:
            return
        if self.live is not None and self.live.user == user:
            self._start(self.live.with_feedback, entries, on_done=self._live_ready)
        else:
            from engine.explore.live_list import live_list
            self._start(live_list, run, user, entries, on_done=self._live_ready)

    def _live_ready(self, live) -> None:
        if self.run is None or live.user != self.state.user or live.run is not self.run:
            return
        self.live = live
        from engine.data.dataset import NO_TIMESTAMP
        items, ratings, times = live.timeline()
        titles = self.run.dataset.titles
        self.history.set_history([titles[i] for i in items], ratings, times, NO_TIMESTAMP)
        self.feedback_view.set_entries(live.feedback, titles)
        self.users.set_count(live.user, live.n_interactions())
        self.update_list()

    # ---- the list (live) -------------------------------------------------------------
    def _semantic_ready(self, ready: bool) -> None:
        """Offer the language model's space in the heatmap menu only while the catalogue's vectors are attached."""
        at = self.space.findData("semantic")
        if ready and at < 0:
            self.space.addItem("semantic", "semantic")
        elif not ready and at >= 0:
            if self.space.currentIndex() == at:
                self.space.setCurrentIndex(0)
            self.space.removeItem(at)

    def update_list(self) -> None:
        """Re-rank the cached candidates and update list, heatmap, metrics and frontier mark together."""
        if self.live is None:
            return
        t = round(float(self.slider.value()), 4)     # no float noise (0.7992, not 0.7992277992277992)
        try:
            rec = self.live.rerank(t, self.method.currentData(), self.k.value())
            items = [r.item for r in rec.rows]
            sim = self.live.similarity(items, self.space.currentData())
        except Exception as exc:  # a bad combination must not crash the view
            self._failed(f"{type(exc).__name__}: {exc}")
            return
        self.rec = rec
        self.rec_space = self.space.currentData()
        self.rec_similarity = sim
        if self.settings is not None:
            self.settings.setValue("explore/tradeoff", t)
            self.settings.setValue("explore/method", rec.method)
        self.list.set_list(rec)
        self.plain_words.set_context(self.state.store, self.run.dataset, self.live.user,
                                     self.live.candidates().items, [r.item for r in rec.rows])
        titles = [r.title for r in rec.rows]
        space = self.space.currentData()
        if space == "model":
            space = rec.metrics.space
        self.heatmap.set_matrix(sim, titles, [short_title(x, 12 if len(titles) > 15 else 18) for x in titles],
                                space)
        self.metrics.set_metrics(metrics_dict(rec.metrics))
        self.frontier.mark(t)
        if self.list.current_row() < 0 and rec.rows:
            self.list.select_position(0)
        self.heatmap.set_selected(self.list.current_row())
        self._row_selected(self.list.current_row())
        self._update_actions()
        self.list_updated.emit(rec)
        self.ready.emit()

    def _row_selected(self, row: int) -> None:
        self.heatmap.set_selected(row)
        if self.rec is not None and 0 <= row < len(self.rec.rows):
            r = self.rec.rows[row]
            self.detail.setPlainText(f"{r.title} — {', '.join(r.genres)}\n{r.explanation}")

    def _cell_clicked(self, row: int, col: int) -> None:
        """A heatmap cell: select the row's item, outline the pair, and say why they are similar."""
        if self.rec is None or self.live is None:
            return
        self.list.select_position(row)
        self.heatmap.set_pair(row, col)
        from engine.explore.explain import explain_pair
        a, b = self.rec.rows[row].item, self.rec.rows[col].item
        self.detail.setPlainText(explain_pair(a, b, self.space.currentData(), dataset=self.run.dataset,
                                              model=self.run.model))

    def _method_changed(self) -> None:
        self.update_list()
        if self.auto_frontier:
            self._start_frontier()

    # ---- feedback --------------------------------------------------------------------
    def give_feedback(self, item: int, kind: str) -> None:
        """Store the feedback (store function, worker), then re-score the live list with it."""
        if self.live is None:
            return
        from engine.explore.feedback import give_feedback
        title = self.run.dataset.titles[item]
        label = {"like": "Liked", "dislike": "Disliked", "not_interested": "Not interested in"}[kind]
        self.state.message.emit(f"{label} “{title}”; updating the list…")
        self._start(give_feedback, self.state.store, self.run.info.dataset_id, self.live.user, int(item), kind,
                    on_done=self._apply_feedback)

    def undo(self, feedback_id: int | None = None) -> None:
        """Undo one feedback entry (default: the latest) and re-score."""
        if self.live is None or not self.live.feedback:
            self.state.message.emit("Nothing to undo.")
            return
        from engine.explore.feedback import undo_and_list
        self.state.message.emit("Undoing feedback…")
        self._start(undo_and_list, self.state.store, self.run.info.dataset_id, self.live.user, feedback_id,
                    on_done=self._apply_feedback)

    def _feedback_selected(self, kind: str) -> None:
        item = self.list.selected_item()
        if item is not None:
            self.give_feedback(item, kind)

    def _update_actions(self) -> None:
        can_undo = self.live is not None and bool(self.live.feedback)
        self.list.can_undo = can_undo
        if self.app_actions is not None:
            self.app_actions.undo.setEnabled(can_undo)

    # ---- frontier --------------------------------------------------------------------
    def start_frontier(self) -> None:
        """Compute the frontier sweep of the current run and method (in a worker)."""
        self._start_frontier()

    def _start_frontier(self) -> None:
        if self.run is None:
            return
        if not self.run.holdout:
            self.frontier.set_message("Frontier: needs a run with a holdout")
            return
        if self._frontier_job is not None:
            self._frontier_job.cancel()
        from engine.explore.frontier import frontier
        method, run = self.method.currentData(), self.run
        self.frontier.set_message("Frontier: computing…")
        self._frontier_job = workers.run_async(frontier, run, method, 11, engine_style=True, max_users=400,
                                               on_done=lambda rows: self._frontier_ready(run, method, rows),
                                               on_error=lambda m: self.frontier.set_message("Frontier failed"))

    def _frontier_ready(self, run, method, rows) -> None:
        if run is not self.run or method != self.method.currentData() or not rows:
            return
        ild_key = next((k for k in rows[0] if k.startswith("ild") and k.endswith("@10")), None)
        if ild_key is None:
            self.frontier.set_message("Frontier: no ILD in the sweep")
            return
        self.frontier.set_rows(rows, ild_key)
        self.frontier.mark(float(self.slider.value()))

    # ---- what the window shows, as data ---------------------------------------------------------
    def snapshot(self) -> dict | None:
        """The list on screen as the CLI's `explore --json` writes it (engine.explore.live_list.list_record)."""
        if self.rec is None or self.run is None:
            return None
        from engine.explore.live_list import list_record
        ds = self.run.dataset
        return list_record(self.rec, dataset=ds.info.name, run=self.run.info.id,
                           user=str(ds.user_ids[self.live.user]), k=self.k.value(), space=self.rec_space,
                           similarity=self.rec_similarity)

    def export_name(self, what: str) -> str:
        """A file name that says what was exported: dataset, run, user, method and trade-off."""
        import re
        if self.rec is None:
            return what
        ds = self.run.dataset
        parts = [ds.info.name, f"run{self.run.info.id}", f"user{ds.user_ids[self.live.user]}", self.rec.method,
                 f"t{self.rec.tradeoff:.2f}", what]
        return re.sub(r"[^A-Za-z0-9_.-]+", "-", "_".join(str(p) for p in parts))

    # ---- export ----------------------------------------------------------------------
    def _export(self, what: str, path: str | None = None) -> str | None:
        if self.rec is None:
            return None
        filters = {"list": "CSV (*.csv)", "metrics": "JSON (*.json)", "heatmap": "PNG (*.png);;SVG (*.svg)",
                   "frontier": "PNG (*.png);;SVG (*.svg)"}[what]
        if path is None:
            ext = {"list": ".csv", "metrics": ".json"}.get(what, ".png")
            path, _ = QFileDialog.getSaveFileName(self, f"Export {what}", self.export_name(what) + ext, filters)
            if not path:
                return None
        from llmrec_gui import export
        if what == "list":
            export.write_list_csv(path, self.snapshot(), self.rec)
        elif what == "metrics":
            export.write_metrics_json(path, self.snapshot())
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
        """A list is shown and, when the frontier is computed automatically, the frontier too;
        or the empty state says why there is nothing to show."""
        if self.stack.currentWidget() is self.empty and self.state.run is None and self.state.store is not None \
                and not self.empty.fit_button.isHidden():
            return True
        return self.rec is not None and (not self.auto_frontier or bool(self.frontier.rows)
                                         or self.frontier.plot.titleLabel.text.startswith("Frontier: needs"))

    def shutdown(self) -> None:
        self.search.shutdown()
        self._cancel_jobs()
