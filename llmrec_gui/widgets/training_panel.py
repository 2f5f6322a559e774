"""The Train view: settings -> Start -> progress (epoch, examples/s, ETA) and live curves; Cancel;
the runs table; the selected run beside the baselines; "Build index" (the run's ANN candidate index,
also in the runs table's context menu). Every job runs in a child process (TensorFlow never loads in
the GUI process, and a 1M-item index build's memory leaves with its process); the panel only reads
its queue."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QSplitter, QVBoxLayout, QWidget

from llmrec_gui.child_jobs import ChildJob
from llmrec_gui.widgets.encoder_line import EncoderLine
from llmrec_gui.widgets.run_comparison import BASELINES, RunComparison
from llmrec_gui.widgets.runs_table import RunsTable
from llmrec_gui.widgets.training_curves import TrainingCurves
from llmrec_gui.widgets.training_form import TrainingForm
from llmrec_gui.workers import alive as workers_alive


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    m, s = divmod(int(seconds), 60)
    return f"{m}m {s:02d}s" if m else f"{s}s"


def step_text(update) -> str:
    """A StepProgress as the bar's label: "Fitting als: 0/1"; a stage naming its unit in brackets takes the
    counts inside them: "Evaluating als (users 256/8,554)"."""
    counts = f"{update.done:,}/{update.total:,}"
    if update.stage.endswith(")") and "(" in update.stage:
        return f"{update.stage[:-1]} {counts})"
    return f"{update.stage}: {counts}"


class TrainingPanel(QWidget):
    ready = Signal()                # runs table filled for the current dataset
    job_started = Signal()
    job_finished = Signal(str)      # "done" | "cancelled" | "failed"
    index_finished = Signal(str)    # the index build: "done" | "cancelled" | "failed"
    explore_requested = Signal()

    def __init__(self, state, actions=None, parent=None):
        super().__init__(parent)
        self.state = state
        self.form = TrainingForm()
        self.start_button = QPushButton("Start training")
        self.start_button.setToolTip("Train the chosen model on the current dataset (Ctrl+T)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running job; nothing is saved (Ctrl+.)")
        self.cancel_button.setEnabled(False)
        self.baselines_button = QPushButton("Fit baselines")
        self.baselines_button.setToolTip("Fit MostPopular, ItemKNN, EASE and ALS (no TensorFlow) for comparison")
        self.probe_button = QPushButton("Detect devices")
        self.probe_button.setToolTip("Ask TensorFlow (in a separate process) which CPU/GPU it sees")
        self.explore_button = QPushButton("Explore selected run")
        self.index_button = QPushButton("Build index")
        self.index_button.setToolTip("Build the selected run's ANN candidate index (faiss IVF, nprobe tuned to "
                                     "recall@100 0.98 against exact search) in the background; Cancel stops it")
        self.index_label = QLabel()       # the selected run's index: kind, lists, nprobe, recall
        self.index_label.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress_label = QLabel("Idle.")
        self.progress_label.setWordWrap(True)       # long status text wraps; it never widens the form
        self.plan_label = QLabel()        # what Start training will do and roughly how long (engine.runs.plan)
        self.plan_label.setWordWrap(True)
        self.plan_label.setObjectName("plan")
        self.trials_label = QLabel()      # the LSTM's tuning trials, one line each, the chosen one marked
        self.trials_label.setWordWrap(True)
        self.trials: list = []
        self.curves = TrainingCurves()
        self.runs = RunsTable()
        self.compare = RunComparison()

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.form)
        self.encoder_line = EncoderLine(state, self.form)    # which encoder, how many texts still to encode
        ll.addWidget(self.encoder_line)
        self.job_finished.connect(lambda _how: self.encoder_line.refresh())
        ll.addWidget(self.plan_label)
        for row in ((self.start_button, self.cancel_button), (self.baselines_button, self.probe_button)):
            h = QHBoxLayout()
            for b in row:
                h.addWidget(b)
            ll.addLayout(h)
        ll.addWidget(self.progress)
        ll.addWidget(self.progress_label)
        ll.addWidget(self.trials_label)
        ll.addStretch(1)
        left.setMaximumWidth(max(420, left.sizeHint().width()))
        runs_box = QWidget()
        rl = QVBoxLayout(runs_box)
        rl.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(QLabel("<b>Runs</b> (select one to explore it)"))
        head.addStretch(1)
        head.addWidget(self.index_button)
        head.addWidget(self.explore_button)
        rl.addLayout(head)
        rl.addWidget(self.runs)
        rl.addWidget(self.index_label)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.curves)
        right.addWidget(runs_box)
        right.addWidget(self.compare)
        right.setSizes([260, 200, 240])
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([left.sizeHint().width(), 930])     # the form as wide as its longest choice
        lay = QVBoxLayout(self)
        lay.addWidget(split)

        self.job: ChildJob | None = None
        self._pending: list = []
        self._probe: ChildJob | None = None
        self.devices: list[tuple[str, str]] | None = None
        self.probe_failed = False
        self.last_summary = None
        settings = getattr(state, "settings", None)
        self.settings = settings
        self.auto_probe = settings is None or str(settings.value("train/auto_probe", "true")) == "true"

        from PySide6.QtCore import QTimer
        self._plan_job = None
        self._closed = False
        self._plan_timer = QTimer(self)          # the plan follows the form, a moment after the last change
        self._plan_timer.setSingleShot(True)
        self._plan_timer.setInterval(250)
        self._plan_timer.timeout.connect(self.update_plan)
        f = self.form
        for signal in (f.model.currentIndexChanged, f.warm.currentIndexChanged, f.tune.toggled, f.holdout.toggled,
                       f.budget.valueChanged, f.trials.valueChanged, f.params["epochs"].valueChanged):
            signal.connect(self._plan_soon)
        state.dataset_changed.connect(self._plan_soon)
        state.runs_changed.connect(self._plan_soon)     # a new run: new figures
        self.start_button.clicked.connect(self.start_training)
        self.cancel_button.clicked.connect(self.cancel)
        self.baselines_button.clicked.connect(self.fit_baselines)
        self.probe_button.clicked.connect(lambda: self.probe_devices(force=True))
        self.explore_button.clicked.connect(self.explore_requested)
        self.index_button.clicked.connect(lambda: self.build_index())
        self.runs.index_requested.connect(lambda run: self.build_index(run))
        self.runs.remove_index_requested.connect(self.remove_index)
        self.runs.export_requested.connect(self.export_run)
        self.runs.delete_requested.connect(self.delete_run)
        self.runs.compare_requested.connect(self.compare.set_compared)
        self.runs.run_selected.connect(state.select_run)
        state.runs_changed.connect(self._runs_changed)
        state.run_changed.connect(self._run_changed)
        if actions is not None:
            actions.start_training.triggered.connect(self.start_training)
            actions.cancel_job.triggered.connect(self.cancel)
            actions.reprobe.triggered.connect(lambda: self.probe_devices(force=True))

    # ---- runs ------------------------------------------------------------------------
    def _runs_changed(self, runs: list) -> None:
        self.runs.set_runs(runs)
        self.form.set_runs(runs)
        self.compare.set_runs(self.state.run, runs)
        self.ready.emit()

    def _run_changed(self, run) -> None:
        self.runs.select_id(None if run is None else run.id)
        self.compare.set_runs(run, self.state.runs)
        self.index_label.clear()
        if run is not None and self.state.store is not None:
            from engine.runs.queries import run_index_info
            from llmrec_gui import workers
            run_id = run.id
            workers.run_async(workers.on_store(self.state.store), run_index_info, run_id,
                              on_done=lambda info: self._show_index(run_id, info))
        if run is not None and (self.job is None or not self.job.running) and self.state.store is not None:
            from engine.runs.queries import run_epochs
            from llmrec_gui import workers
            run_id = run.id
            workers.run_async(workers.on_store(self.state.store), run_epochs, run_id,
                              on_done=lambda rows: self._show_epochs(run_id, rows))

    def _show_index(self, run_id: int, info: dict | None) -> None:
        if self.state.run is None or self.state.run.id != run_id:
            return
        self.index_label.setText(f"Run {run_id}: candidates from its ANN index ({info['summary']})." if info else
                                 f"Run {run_id}: no ANN index; candidates by scoring the whole catalogue (exact).")

    def _show_epochs(self, run_id: int, rows: list) -> None:
        if self.state.run is not None and self.state.run.id == run_id and (self.job is None or not self.job.running):
            self.curves.show_epochs(rows)

    def is_complete(self) -> bool:
        """The runs are listed and the plan of the settings on screen is said."""
        return (self.runs.rowCount() == len(self.state.runs) and self.state.dataset is not None
                and self.plan_label.text().startswith(("Will ", "No plan")))

    # ---- jobs ------------------------------------------------------------------------
    def _plan_soon(self, *_args) -> None:
        if not self._closed and workers_alive(self.plan_label):
            self._plan_timer.start()

    def update_plan(self) -> None:
        """Say what Start training will do and roughly how long, from figures measured on this machine."""
        if not workers_alive(self.plan_label) or self._closed:
            return
        if self.state.store is None or self.state.dataset is None:
            self.plan_label.clear()
            return
        from engine.runs.plan import training_plan
        from llmrec_gui import workers
        config = self.form.config(self.state.dataset.name)
        self.plan_label.setText("Working out what the training will take…")

        def show(plan, asked=config) -> None:
            if self.state.dataset is not None and asked == self.form.config(self.state.dataset.name):
                self.plan_label.setText(plan.describe())
        if self._plan_job is not None:
            self._plan_job.cancel()            # an older answer would be for other settings
        self._plan_job = workers.run_async(workers.on_store(self.state.store), training_plan, config, on_done=show,
                                           on_error=lambda msg: self.plan_label.setText(f"No plan: {msg}"),
                                           owner=self.plan_label)

    def start_training(self, config=None) -> bool:
        """Start one training job in a child process (returns False when one is running or nothing to train)."""
        if self.state.store is None or self.state.dataset is None or (self.job is not None and self.job.running):
            return False
        config = config or self.form.config(self.state.dataset.name)
        self.curves.clear()
        self.trials = []
        self.trials_label.clear()
        self.progress.setValue(0)
        self.progress_label.setText(
            f"Warm-starting run {config.warm_start} (loading TensorFlow in a separate process)…"
            if getattr(config, "warm_start", None) is not None else
            f"Starting {config.model} (loading TensorFlow in a separate process)…"
            if config.model == "lstm" else f"Fitting {config.model}…")
        from engine.runs.child_tasks import train_in_child
        self.job = ChildJob(train_in_child, config, self.state.store.url, parent=self)
        self.job.progress.connect(self._progress)
        self.job.finished.connect(self._finished)
        self.job.failed.connect(self._failed)
        self.job.cancelled.connect(self._cancelled)
        self.job.start()
        self._set_running(True)
        self.job_started.emit()
        return True

    def fit_baselines(self) -> None:
        from engine.runs.training import TrainConfig
        if self.state.dataset is None:
            return
        have = {r.model for r in self.state.runs if r.holdout}
        self._pending = [TrainConfig(dataset=self.state.dataset.name, model=m) for m in BASELINES if m not in have]
        self._next_pending()

    def _next_pending(self) -> None:
        if self._pending and (self.job is None or not self.job.running):
            self.start_training(self._pending.pop(0))

    def cancel(self) -> None:
        self._pending = []
        if self.job is not None and self.job.running:
            self.progress_label.setText("Cancelling…")
            self.job.cancel()

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.baselines_button.setEnabled(not running)
        self.index_button.setEnabled(not running)
        self.runs.build_index_action.setEnabled(not running)
        self.cancel_button.setEnabled(running)

    def _show_trial(self, t) -> None:
        """One line per finished tuning trial with its validation NDCG@10; the chosen one in bold. The
        curves restart with each trial (each trains from scratch)."""
        self.trials.append(t)
        limit = f" of {t.budget_s / 60:.0f}" if t.budget_s else ""
        lines = [f"<b>Tuning on validation</b> ({t.elapsed_s / 60:.0f}{limit} min)"]
        for x in self.trials:
            v = "–" if x.val_ndcg10 is None else f"{x.val_ndcg10:.4f}"
            line = (f"trial {x.trial}: val NDCG@10 {v} ({x.state}, {x.seconds:.0f} s; dim {x.params.get('embedding_dim')}, "
                    f"L {x.params.get('max_len')}, T {x.params.get('temperature', 0):.2f})")
            lines.append(f"<b>{line} ← chosen</b>" if x.trial == t.best_trial else line)
        self.trials_label.setText("<br>".join(lines))
        self.curves.clear()

    def _progress(self, update) -> None:
        from engine.types import EpochStats, StepProgress, TrialStats
        if isinstance(update, TrialStats):
            self._show_trial(update)
        elif isinstance(update, EpochStats):
            self.curves.add(update)
            frac = (update.epoch - 1 + (update.batch / update.batches if update.batch and update.batches else 1.0)) \
                / max(update.epochs, 1)
            self.progress.setValue(int(1000 * min(frac, 1.0)))
            parts = [update.phase_label.capitalize()]
            if update.batch is not None:
                parts.append(f"batch {update.batch}/{update.batches}")
            parts.append(f"loss {update.loss:.4f}")
            if update.examples_per_s:
                parts.append(f"{update.examples_per_s:,.0f} examples/s")
            parts.append(f"ETA {_eta(update.eta_s)}")
            if update.val_ndcg10 is not None:
                parts.append(f"val NDCG@10 {update.val_ndcg10:.4f}")
            self.progress_label.setText(" · ".join(parts))
        elif isinstance(update, StepProgress):
            self.progress_label.setText(step_text(update))
            if update.total:
                self.progress.setValue(int(1000 * min(update.done / update.total, 1.0)))

    def _finished(self, summary) -> None:
        self.last_summary = summary
        self._set_running(False)
        self.progress.setValue(1000)
        m = summary.metrics
        metric = f", NDCG@10 {m['ndcg@10']:.4f}" if m.get("ndcg@10") is not None else ""
        from engine.evaluation.protocol import sample_note
        note = sample_note(m)
        self.progress_label.setText(f"Run {summary.run_id} ({summary.model}) saved in {summary.seconds:.1f} s on "
                                    f"{summary.device_name or summary.device}{metric}."
                                    + (f" ({note[0].upper()}{note[1:]}.)" if note else ""))
        self.state.message.emit(f"Training finished: run {summary.run_id}")
        self.state.announce_run(summary.run_id)
        self.job_finished.emit("done")
        self._next_pending()

    def _failed(self, msg: str) -> None:
        self._pending = []
        self._set_running(False)
        self.curves.clear()
        self._run_changed(self.state.run)
        self.progress_label.setText(f"Failed: {msg}")
        self.state.error.emit(f"Training failed: {msg}")
        self.job_finished.emit("failed")

    def _cancelled(self) -> None:
        self._set_running(False)
        self.progress.setValue(0)
        self.progress_label.setText("Cancelled; nothing was saved.")
        self.curves.clear()                    # the cancelled run's curves belong to no run
        self._run_changed(self.state.run)      # show the selected run's own curves again
        self.job_finished.emit("cancelled")

    # ---- the ANN index ---------------------------------------------------------------
    def build_index(self, run=None, force: bool | None = None) -> bool:
        """Build `run`'s (default: the selected run's) ANN index in a child process. Below ANN_MIN_ITEMS
        items exact search is fast and exact: the user is asked first (`force` answers for them)."""
        from engine.retrieval.index import ANN_MIN_ITEMS
        run = run or self.state.run
        if run is None or self.state.store is None or (self.job is not None and self.job.running):
            return False
        n_items = self.state.dataset.n_items if self.state.dataset is not None else 0
        if force is None:
            force = n_items >= ANN_MIN_ITEMS or self._confirm_small(n_items, ANN_MIN_ITEMS)
            if not force:
                return False
        self.progress.setValue(0)
        self.progress_label.setText(f"Building the ANN index of run {run.id} ({n_items:,} items)…")
        from engine.runs.child_tasks import index_in_child
        self.job = ChildJob(index_in_child, self.state.store.url, run.id, bool(force),
                            parent=self)
        self.job.progress.connect(self._progress)
        self.job.finished.connect(self._index_done)
        self.job.failed.connect(lambda msg: self._index_ended(f"Index build failed: {msg}", "failed"))
        self.job.cancelled.connect(lambda: self._index_ended(
            "Index build cancelled; nothing was saved (the run keeps its previous candidates).", "cancelled"))
        self.job.start()
        self._set_running(True)
        self.job_started.emit()
        return True

    # ---- the runs table's context menu: engine.runs.manage in the store process ----------
    def delete_run(self, run, confirmed: bool | None = None) -> bool:
        """Delete `run` and its files (asked first, No by default; `confirmed` answers for the user)."""
        if self.state.store is None:
            return False
        if confirmed is None:
            confirmed = self._ask(f"Delete run {run.id} ({run.model}) and its model files?\n\nFiles of another "
                                  "database sharing the model folder are never removed.")
        if not confirmed:
            return False
        from engine.runs.manage import delete_run
        self._manage(delete_run, run.id, lambda done: (
            f"Run {run.id} deleted" + ("; its files removed." if done.removed else f"; its files left alone: "
                                       f"{done.left_alone}.")))
        return True

    def remove_index(self, run) -> None:
        from engine.runs.manage import remove_index
        self._manage(remove_index, run.id, lambda done: (
            f"Run {run.id}: ANN index removed (exact search from now on)." if done.removed
            else f"Run {run.id}: no index removed ({done.left_alone})."), index=True)

    def export_run(self, run, path: str | None = None) -> None:
        if path is None:
            from PySide6.QtWidgets import QFileDialog
            path, _ = QFileDialog.getSaveFileName(self, "Export run record", f"run-{run.id}.json", "JSON (*.json)")
            if not path:
                return
        from engine.runs.manage import export_run
        self._manage(export_run, run.id, lambda out: f"Run {run.id} written to {out}.", path, refresh=False)

    def _manage(self, fn, run_id: int, say, *args, index: bool = False, refresh: bool = True) -> None:
        from llmrec_gui import workers

        def done(result) -> None:
            text = say(result)
            self.progress_label.setText(text)
            self.state.message.emit(text)
            if index:
                self.state.index_built.emit(run_id)    # Explore re-reads the run's candidates
                self._run_changed(self.state.run)
            if refresh:
                self.state.refresh_runs()
        workers.run_async(workers.on_store(self.state.store), fn, run_id, *args, on_done=done,
                          on_error=self.state.error.emit)

    def _ask(self, text: str) -> bool:
        """A Yes/No question, No by default (LLMREC_GUI_NO_DIALOGS: no)."""
        import os
        if os.environ.get("LLMREC_GUI_NO_DIALOGS"):
            return False
        from PySide6.QtWidgets import QMessageBox
        answer = QMessageBox.question(self, "llmrec", text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def _confirm_small(self, n_items: int, floor: int) -> bool:
        import os
        if os.environ.get("LLMREC_GUI_NO_DIALOGS"):
            self.progress_label.setText(f"{n_items:,} items: exact search is used below {floor:,}; no index built.")
            return False
        from PySide6.QtWidgets import QMessageBox
        return self.small_index_box(n_items, floor).exec() == QMessageBox.StandardButton.Yes

    def small_index_box(self, n_items: int, floor: int):
        """The question asked before indexing a catalogue below `floor` items. Its text advises against
        building, so No is the default button (Enter declines)."""
        from PySide6.QtWidgets import QMessageBox
        box = QMessageBox(QMessageBox.Icon.Question, "Build index",
                          f"This catalogue has {n_items:,} items. Below {floor:,} exact scoring is fast and "
                          "exact, and the app uses it. Build an approximate index anyway?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.setEscapeButton(QMessageBox.StandardButton.No)
        return box

    def _index_done(self, info: dict) -> None:
        self._set_running(False)
        self.progress.setValue(1000)
        self.progress_label.setText(f"Run {info['run_id']}: index built ({info['summary']}); Explore now takes "
                                    "its candidates from it.")
        self._show_index(info["run_id"], info)
        self.state.message.emit(f"Index built for run {info['run_id']}: {info['summary']}")
        self.state.index_built.emit(int(info["run_id"]))
        self.index_finished.emit("done")

    def _index_ended(self, text: str, how: str) -> None:
        self._set_running(False)
        self.progress.setValue(0)
        self.progress_label.setText(text)
        if how == "failed":
            self.state.error.emit(text)
        self.index_finished.emit(how)

    # ---- devices ---------------------------------------------------------------------
    def probe_devices(self, force: bool = False) -> None:
        """The devices TensorFlow sees: the cached answer for this TensorFlow version, else (or when
        `force`: the "Detect devices" button) a probe in a child process."""
        if self._probe is not None and self._probe.running:
            return
        from llmrec_gui.device_cache import load_devices
        cached = None if force else load_devices(self.settings)
        if cached is not None:
            self._devices(cached, save=False)
            return
        self.state.device_changed.emit("probing TensorFlow…")
        from engine.runs.child_tasks import probe_devices
        self._probe = ChildJob(probe_devices, parent=self)
        self._probe.finished.connect(self._devices)
        self._probe.failed.connect(self._probe_failed)
        self._probe.start()

    def show_cached_devices(self) -> None:
        """Show the cached probe answer, if any; never starts a probe."""
        from llmrec_gui.device_cache import load_devices
        cached = load_devices(self.settings)
        if cached is not None:
            self._devices(cached, save=False)
        else:
            self.state.device_changed.emit("not probed (Run ▸ Re-detect devices)")

    def _probe_failed(self, msg: str) -> None:
        self.probe_failed = True
        self.state.device_changed.emit(f"unknown ({msg})")

    def _devices(self, devices: list, save: bool = True) -> None:
        self.devices = [tuple(d) for d in devices]
        if save:
            from llmrec_gui.device_cache import save_devices
            save_devices(self.settings, self.devices)
        self.form.set_devices(self.devices)
        gpus = [name for kind, name in devices if kind == "gpu"]
        self.state.device_changed.emit(f"GPU: {gpus[0]}" if gpus else f"CPU ({devices[0][1]})")

    def shutdown(self) -> None:
        self._closed = True
        self._plan_timer.stop()
        if self._plan_job is not None:
            self._plan_job.cancel()
        if self.job is not None:
            self.job.shutdown()            # training: a moment to stop cleanly (nothing is saved either way)
        if self._probe is not None:
            self._probe.shutdown(grace=0.1)   # the probe holds nothing: quit promptly
