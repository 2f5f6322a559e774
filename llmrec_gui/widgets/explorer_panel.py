"""The Explore view: pick a user, see their history, feedback and recommendation list, move the
diversity slider (live re-ranking), the similarity heatmap, the list's metrics and the frontier.

The list is the engine's ``UserRecommendations`` (the object behind `llmrec explore`): built in a
worker from plain data (the loaded run, the user's feedback read through a store function),
re-ranked on the GUI thread (milliseconds of numpy, throttled). Feedback is written through
module-level engine functions that return the user's active feedback; the live list is then
re-scored in a worker and swapped in whole. The panel keeps no feedback state of its own."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget
from superqt.utils import qthrottled

from llmrec_gui import workers
from llmrec_gui.startup_trace import mark
from llmrec_gui.widgets import explorer_export
from llmrec_gui.widgets.empty_state import EmptyState
from llmrec_gui.widgets.explorer_controls import METHODS, SPACES, ExplorerControls  # noqa: F401 (re-exported)
from llmrec_gui.widgets.explorer_jobs import ExplorerJobs
from llmrec_gui.widgets.explorer_view import ExplorerView, metrics_dict  # noqa: F401 (re-exported)
from llmrec_gui.widgets.run_picker import RunPicker


def open_run_for_explore(*parts):
    """Worker: the live-list run from the store process' parts, with the titles the lists show (a repeated
    title with what tells it apart) indexed here rather than on the first row shown."""
    from engine.explore.live_list import open_explore_run_for_live
    from engine.language.item_labels import shown_titles
    loaded = open_explore_run_for_live(*parts)
    shown_titles(loaded.dataset)
    return loaded


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
        self.choice = None         # engine.explore.space_choice.SpaceChoice of the run on screen
        self._outcome: str | None = None   # the status message that replaces "…updating the list…"
        self.jobs = ExplorerJobs(self._failed)
        settings = getattr(state, "settings", None)
        self.settings = settings
        self.auto_frontier = settings is None or str(settings.value("explore/auto_frontier", "true")) == "true"

        self.run_picker = RunPicker()
        self.controls = ExplorerControls()
        self.slider, self.method, self.space, self.k = (self.controls.slider, self.controls.method,
                                                        self.controls.space, self.controls.k)
        self.view = v = ExplorerView()
        self.users, self.history, self.feedback_view, self.list = v.users, v.history, v.feedback_view, v.list
        self.detail, self.heatmap, self.metrics, self.frontier = v.detail, v.heatmap, v.metrics, v.frontier
        self.search, self.plain_words = v.search, v.plain_words
        self.status = QLabel("No run selected.")
        self.status.setWordWrap(True)
        self.empty = EmptyState()
        self.empty.fit_requested.connect(self.fit_requested.emit)
        self.empty.train_requested.connect(self.train_requested.emit)
        main = QWidget()
        mlay = QVBoxLayout(main)
        mlay.setContentsMargins(0, 0, 0, 0)
        mlay.addWidget(self.controls)
        mlay.addWidget(self.view, 1)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(main)
        lay = QVBoxLayout(self)
        lay.addWidget(self.run_picker)
        lay.addWidget(self.stack, 1)
        lay.addWidget(self.status)
        self._show_empty("No run selected.", actions=False)
        if settings is not None:
            self.controls.restore(settings)

        # wiring
        self._throttled_update = qthrottled(self.update_list, timeout=40, leading=True)
        self.slider.valueChanged.connect(lambda _v: self._throttled_update())
        self.method.currentIndexChanged.connect(self._method_changed)
        self.space.currentIndexChanged.connect(lambda _i: self.update_list())
        self.controls.rerank_space.currentIndexChanged.connect(lambda _i: self._rerank_space_changed())
        self.k.valueChanged.connect(lambda _v: self.update_list())
        self.users.user_picked.connect(self._user_picked)
        self.list.row_selected.connect(self._row_selected)
        self.list.feedback_given.connect(self.give_feedback)
        self.list.undo_requested.connect(self.undo)
        self.search.feedback_given.connect(self.give_feedback)     # the search hits act like the list's rows
        self.search.undo_requested.connect(self.undo)
        self.feedback_view.undo_requested.connect(self.undo)
        self.heatmap.cell_clicked.connect(self._cell_clicked)
        state.dataset_changed.connect(self._dataset_changed)
        self.search.vectors_ready.connect(self.controls.offer_semantic)
        self.plain_words.feedback_changed.connect(lambda u: self.reload_user() if u == self.state.user else None)
        state.run_changed.connect(self._run_changed)
        state.runs_changed.connect(self.run_picker.set_runs)
        state.run_changed.connect(lambda info: self.run_picker.set_current(None if info is None else info.id))
        state.run_ready.connect(self.run_picker.offer_run)
        self.run_picker.run_chosen.connect(state.select_run)
        state.store_changed.connect(self._store_changed)
        state.index_built.connect(self._index_built)
        state.user_changed.connect(self._user_changed)
        QShortcut(QKeySequence("Ctrl+U"), self, activated=self.users.search.setFocus)
        if actions is not None:
            actions.like.triggered.connect(lambda: self._feedback_selected("like"))
            actions.dislike.triggered.connect(lambda: self._feedback_selected("dislike"))
            actions.not_interested.triggered.connect(lambda: self._feedback_selected("not_interested"))
            actions.undo.triggered.connect(lambda: self.undo())
            for what in ("list", "metrics", "heatmap", "frontier"):
                getattr(actions, f"export_{what}").triggered.connect(lambda _c=False, w=what: self._export(w))

    @property
    def _frontier_job(self):
        return self.jobs.frontier_job

    def _here(self, fn, *args, on_done, **kwargs):
        """`fn` in a worker of this process (results for the current run and user only)."""
        return self.jobs.start(workers.here(), fn, *args, on_done=on_done, **kwargs)

    def _on_store(self, fn, *args, on_done, **kwargs):
        """`fn(store, *args)` in the store process (results for the current run and user only)."""
        return self.jobs.start(workers.on_store(self.state.store), fn, *args, on_done=on_done, **kwargs)

    # ---- empty and stale states --------------------------------------------------------------
    def _show_empty(self, text: str, actions: bool) -> None:
        self.run, self.live, self.rec, self.choice = None, None, None, None
        self.controls.show_chosen(None)
        self.view.clear()
        self.empty.show_message(text, actions)
        self.stack.setCurrentWidget(self.empty)
        self.status.setText(text)
        self._update_actions()

    def _dataset_changed(self, info) -> None:
        if self.run is not None and info is not None and self.run.info.dataset_id == info.id:
            return    # the same dataset re-read (F5): keep the view until its run is known
        self.jobs.cancel_all()
        self._show_empty("Loading…" if info is not None else "No dataset yet: import one (File ▸ Import data…).",
                         actions=False)

    def _run_changed(self, info) -> None:
        if info is None:
            self.jobs.cancel_all()
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
        self.jobs.cancel_all()
        self._show_empty(f"Loading run {info.id} ({info.model})…", actions=False)
        # a lean run: the store process sends the users, the catalogue and the run's counts (streamed
        # once per dataset over blocks of users, or kept by its training), never the interaction table;
        # each pick reads its user there. The model files are read here (no copy of the item vectors
        # between the processes), and the per-run caches are built before the first pick.
        from engine.runs.lean import explore_parts
        self._on_store(explore_parts, info.id, engine_style=True,
                    on_progress=lambda p, i=info: self._loading(i, p),
                    on_done=lambda parts: self._here(open_run_for_explore, *parts, on_done=self._run_loaded))

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
        loaded.source.store = self.state.store       # each user's interactions: a store call (in workers)
        self.run = loaded
        ds = loaded.dataset
        self.list.set_genres_label(ds.info.genres_label)
        from engine.language.item_labels import shown_titles
        self.view.titles = shown_titles(ds)
        self.view.categories = (ds.info.genres_label or "Genres").lower()
        self.controls.set_categories_name(self.view.categories)
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
            user = saved if saved is not None and 0 <= saved < ds.n_users else loaded.default_user()
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
        from engine.explore.rerank import POOL_WIDEN
        pool = 100 * POOL_WIDEN
        where = (f"top {pool} from the ANN index ({info['summary']})" if info and info.get("n_items") == run.model.n_items
                 else f"top {pool} by score (exact)")
        self.status.setText(f"Run {run.info.id}: {run.info.model} on {run.info.dataset_name}. "
                            f"Candidates: {where}, re-ranked live.")

    def _index_built(self, run_id: int) -> None:
        """The run on screen got a (new) index: use it from now on, and re-score the user with it."""
        if self.run is None or self.run.info.id != run_id:
            return
        self.run.forget_index()
        self._show_status()
        self.jobs.invalidate()
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
        self.jobs.invalidate()
        self.live = None
        self.reload_user()

    def reload_user(self) -> None:
        """Read the user's feedback from the database and rebuild the live list (worker)."""
        if self.run is None or self.state.user is None:
            return
        from engine.explore.feedback import list_feedback
        user, ds_id = self.state.user, self.run.info.dataset_id
        self._on_store(list_feedback, ds_id, user, on_done=self._apply_feedback)

    def _apply_feedback(self, entries) -> None:
        """Re-score the live list with `entries` in force (worker), then show it."""
        run, user = self.run, self.state.user
        if run is None or user is None:
            return
        if self.live is not None and self.live.user == user:
            self._here(self.live.with_feedback, entries, on_done=self._live_ready)
        else:
            from engine.explore.live_list import live_list
            self._here(live_list, run, user, entries, rerank_space=self.wanted_rerank_space(),
                       on_done=self._live_ready)

    def _live_ready(self, live) -> None:
        if self.run is None or live.user != self.state.user or live.run is not self.run:
            return
        self.live = live
        wanted = self.wanted_rerank_space()
        if wanted is not None:           # the space was chosen (or changed) while the list was being built
            try:
                live.set_rerank_space(wanted)
            except Exception as exc:  # e.g. semantic before the catalogue's vectors are attached
                self._failed(f"{type(exc).__name__}: {exc}")
        from engine.data.dataset import NO_TIMESTAMP
        items, ratings, times = live.timeline()
        titles = self.view.titles if self.view.titles is not None else self.run.dataset.titles
        self.history.set_history([titles[i] for i in items], ratings, times, NO_TIMESTAMP)
        self.feedback_view.set_entries(live.feedback, titles)
        self.users.set_count(live.user, live.n_interactions())
        self.update_list()
        self._announce_outcome()

    def _announce_outcome(self) -> None:
        """Replace a transient "…updating the list…" message by its outcome once the list is shown."""
        outcome, self._outcome = self._outcome, None
        if outcome is not None:
            self.state.message.emit(outcome)

    # ---- the list (live) -------------------------------------------------------------
    def update_list(self) -> None:
        """Re-rank the cached candidates and update list, heatmap, metrics and frontier mark together."""
        if self.live is None:
            return
        t = self.controls.tradeoff()
        try:
            rec = self.live.rerank(t, self.method.currentData(), self.k.value())
            items = [r.item for r in rec.rows]
            sim = self.live.similarity(items, self.space.currentData())
        except Exception as exc:  # a bad combination must not crash the view
            self._failed(f"{type(exc).__name__}: {exc}")
            return
        self.rec = rec
        heat = self.space.currentData()
        self.rec_space = self.live.neighbour_space() if heat == "model" else heat     # "model" falls back to text
        self.rec_similarity = sim
        if self.settings is not None:
            self.controls.save(self.settings, t, rec.method)
        self.view.show_list(rec, sim, self.rec_space, t)
        mark("explore list shown")             # explorable from here (the frontier sweep may still run)
        self.plain_words.set_context(self.state.store, self.run.dataset, self.live.user,
                                     self.live.candidates().items, [r.item for r in rec.rows])
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

    def wanted_rerank_space(self) -> str | None:
        """The slider's space: the combo's, "auto" being the run's chosen space (None until it is known:
        the model's own space)."""
        wanted = self.controls.rerank_space.currentData()
        if wanted == "auto":
            return None if self.choice is None else self.choice.space
        return wanted

    def _rerank_space_changed(self) -> None:
        """Re-rank the cached candidates in the newly chosen space (no re-scoring) and redraw the frontier."""
        if self.live is not None:
            space = self.wanted_rerank_space()
            try:
                self.live.set_rerank_space(space if space is not None else self.live.neighbour_space())
            except Exception as exc:  # e.g. semantic before the catalogue's vectors are attached
                self._failed(f"{type(exc).__name__}: {exc}")
                return
            self.update_list()
        self._show_frontier()

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
        self._outcome = f"{label} “{title}”; the list is updated."     # replaces the message when shown
        self._on_store(give_feedback, self.run.info.dataset_id, self.live.user, int(item), kind,
                    on_done=self._apply_feedback)

    def undo(self, feedback_id: int | None = None) -> None:
        """Undo one feedback entry (default: the latest) and re-score."""
        if self.live is None or not self.live.feedback:
            self.state.message.emit("Nothing to undo.")
            return
        from engine.explore.feedback import undo_and_list
        self.state.message.emit("Undoing feedback…")
        self._outcome = "Feedback undone; the list is updated."
        self._on_store(undo_and_list, self.run.info.dataset_id, self.live.user, feedback_id,
                    on_done=self._apply_feedback)

    def _feedback_selected(self, kind: str) -> None:
        item = self.list.selected_item()
        if item is not None:
            self.give_feedback(item, kind)

    def _update_actions(self) -> None:
        can_undo = self.live is not None and bool(self.live.feedback)
        self.list.can_undo = self.search.hits.can_undo = can_undo
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
        from engine.explore.space_choice import choose_space
        method, run = self.method.currentData(), self.run
        self.frontier.set_message("Frontier: computing…")
        self.jobs.start_frontier(workers.here(), choose_space, run, method, engine_style=True, max_users=400,
                                 on_done=lambda choice: self._frontier_ready(run, method, choice),
                                 on_error=lambda m: self.frontier.set_message("Frontier failed"))

    def _frontier_ready(self, run, method, choice) -> None:
        """The sweeps of every space, and the space "auto" stands for: the slider moves there if it is on auto."""
        if run is not self.run or method != self.method.currentData() or not choice.curves:
            return
        before = self.wanted_rerank_space()
        self.choice = choice
        self.controls.show_chosen(choice.space)
        if self.wanted_rerank_space() != before:
            self._rerank_space_changed()
        else:
            self._show_frontier()

    def _show_frontier(self) -> None:
        if self.choice is None:
            return
        space = self.live.candidates().space if self.live is not None else self.choice.space
        self.view.show_frontier(self.choice.curves, space, float(self.slider.value()))

    # ---- what the window shows, as data, and exports -------------------------------------
    def snapshot(self) -> dict | None:
        """The list on screen as the CLI's `explore --json` writes it."""
        return explorer_export.snapshot(self)

    def export_name(self, what: str) -> str:
        return explorer_export.export_name(self, what)

    def _export(self, what: str, path: str | None = None) -> str | None:
        return explorer_export.export(self, what, path)

    def _failed(self, msg: str) -> None:
        self.status.setText(f"Error: {msg}")
        self._outcome = None          # the error replaces a pending "…updating the list…"
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
        self.jobs.cancel_all()
