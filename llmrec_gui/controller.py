"""The app's controller: owns the state, the window and the panels and wires them together; opens the
database (a store process) after the first show, follows it when it stops, and runs the File actions."""
from __future__ import annotations

import argparse
import os
import sys


def open_database(db, **kwargs):
    """Worker thread: the engine (SQLAlchemy and all, ~1 s of imports) is imported here, off the GUI thread."""
    from engine.runs.first_launch import open_and_prepare
    return open_and_prepare(db, **kwargs)


class Controller:
    """Owns the state, the window and the panels; wires them together."""

    def __init__(self, args: argparse.Namespace):
        from llmrec_gui.main_window import MainWindow
        from llmrec_gui.settings import make_settings
        from llmrec_gui.state import AppState
        self.args = args
        self.settings = make_settings(args.settings)
        self.state = AppState(self.settings)
        self.window = MainWindow()
        w, h = (int(x) for x in args.size.lower().split("x"))
        self.window.resize(w, h)
        self.boot_error: str | None = None
        self.booted = False
        self.panels_built = False
        self._opened_early = None           # the store, when the database opened before the views were built
        self._new_demo: int | None = None     # the demo dataset created by this launch (encoded once open)
        self._reopen_job = None
        self._wire_static()

    # ---- wiring ----------------------------------------------------------------------
    def _wire_static(self) -> None:
        st, win, a = self.state, self.window, self.window.actions
        st.error.connect(self._show_error)
        st.message.connect(lambda m: win.statusBar().showMessage(m, 8000))
        st.store_changed.connect(lambda s: win.set_database(s.display_name))
        st.device_changed.connect(win.set_device)
        st.store_gone.connect(self._store_gone)
        win.store_banner.reopen_requested.connect(self.reopen_store)
        a.quit.triggered.connect(win.close)
        win.closing = self.shutdown
        a.refresh.triggered.connect(self.refresh_all)
        a.import_data.triggered.connect(lambda: self.open_import_wizard())
        a.open_db.triggered.connect(self._choose_db)
        a.about.triggered.connect(self._about)
        a.guide.triggered.connect(self.show_guide)
        win.file_dropped = self.open_import_wizard

    def refresh_all(self) -> None:
        """F5, and whenever the app comes back to the front: re-read datasets and runs, which another
        app instance may have changed on a shared (PostgreSQL) store."""
        if self.booted:
            self.state.refresh_datasets()
            self.state.refresh_runs()

    def app_state_changed(self, app_state) -> None:
        from PySide6.QtCore import Qt
        if app_state == Qt.ApplicationState.ApplicationActive:
            self.refresh_all()

    def start(self) -> None:
        """After the first paint: start opening the database (a worker thread starting the store process,
        which then works on the other core) and, in another worker thread, import what the views need
        (pyqtgraph, the engine's modules: most of their build time), so the painted window keeps answering;
        then build the views in the GUI thread, the one on screen first."""
        from llmrec_gui import workers
        from llmrec_gui.panels import preload_views
        db = self.args.db or self.settings.value("db") or None
        self.window.set_database("opening…")
        self.state.message.emit("Opening the database…")
        self._boot_job = workers.run_async(
            workers.here(), open_database, db, demo=not self.args.no_demo, engine_style=True,
            on_progress=self._boot_progress, on_done=self._booted, on_error=self._boot_failed)
        self._preload_job = workers.run_async(workers.here(), preload_views, on_done=lambda _: self.build_panels(),
                                              on_error=lambda _: self.build_panels())

    def _boot_progress(self, item) -> None:
        from engine.runs.first_launch import DemoCreated
        if isinstance(item, str):
            self.state.message.emit(item)
        elif isinstance(item, DemoCreated):          # first launch: encode the new demo once the app is open
            self._new_demo = item.dataset_id

    def build_panels(self) -> None:
        """The views (once their modules are imported); a database that opened meanwhile is shown now."""
        if self.panels_built:
            return
        from llmrec_gui.panels import build_panels
        from llmrec_gui.startup_trace import mark
        build_panels(self)
        self.panels_built = True
        mark("views built")
        if self._opened_early is not None:
            store, self._opened_early = self._opened_early, None
            self._booted(store)

    def _booted(self, store) -> None:
        if not self.panels_built:          # the views are still being built: they show it when they exist
            self._opened_early = store
            return
        from llmrec_gui.startup_trace import mark
        mark("database open")
        self.booted = True
        self.state.set_store(store)
        self.state.message.emit(f"Opened {store.display_name}")
        if self.args.dataset is not None or self.args.run is not None:
            from engine.runs.first_launch import find_dataset_and_run
            from llmrec_gui import workers
            workers.run_async(workers.on_store(store), find_dataset_and_run, self.args.dataset, self.args.run,
                              on_done=self._open_asked, on_error=self._open_failed)
        else:
            self.state.refresh_datasets()
        demo, self._new_demo = self._new_demo, None
        if demo is not None:
            self.encode_in_background(demo)
        if self.training_panel.auto_probe and not self.args.screenshot:
            self.training_panel.probe_devices()   # cached per TensorFlow version; else a child process
        else:
            self.training_panel.show_cached_devices()   # a screenshot never starts (nor waits for) the probe

    def _open_asked(self, found) -> None:
        """The --dataset / --run asked for on the command line."""
        dataset_id, run_id = found
        self.state.prefer_run = run_id
        self.state.refresh_datasets(select=dataset_id)

    def _open_failed(self, msg: str) -> None:
        self._show_error(msg)
        self.state.refresh_datasets()

    def _boot_failed(self, msg: str) -> None:
        self.boot_error = msg
        self.window.set_database("not open")
        self._show_error(f"Could not open the database: {msg}")

    # ---- actions ---------------------------------------------------------------------
    def open_import_wizard(self, paths: list[str] | None = None):
        if self.state.store is None:
            self.state.message.emit("The database is still opening…")
            return None
        from llmrec_gui.wizard.import_wizard import ImportWizard
        wiz = ImportWizard(self.state.store, paths=paths, parent=self.window, settings=self.settings)
        wiz.imported.connect(self._imported)
        wiz.open()
        self.wizard = wiz
        return wiz

    def _imported(self, summary) -> None:
        """Select the new dataset and fit the fast EASE baseline in the background, so Explore works
        at once (as the demo does on first launch); the empty state says it is coming."""
        from engine.runs.first_launch import ensure_baseline
        from llmrec_gui import workers
        ds_id = summary.dataset_id
        self.state.fitting_baseline = ds_id
        self.state.refresh_datasets(select=ds_id)
        self.state.message.emit("Imported; fitting the EASE baseline in the background…")
        self.baseline_job = workers.run_async(
            workers.on_store(self.state.store), ensure_baseline, ds_id,
            on_done=lambda run_id: self._baseline_ready(ds_id, run_id),
            on_error=lambda m: self._baseline_ready(ds_id, None, m))

    def _baseline_ready(self, dataset_id: int, run_id: int | None, error: str | None = None) -> None:
        self.state.fitting_baseline = None
        self.encode_in_background(dataset_id)      # after the fit, not beside it (engine/runs/first_launch.py)
        if error is not None:
            self._show_error(f"Fitting the EASE baseline failed: {error}")
            self.state.refresh_runs()
            return
        self.state.message.emit(f"EASE baseline ready (run {run_id}); encoding the catalogue in the background "
                                "(progress and Cancel in Explore's search line)…")
        if self.state.dataset is not None and self.state.dataset.id == dataset_id:
            self.state.announce_run(run_id)

    def encode_in_background(self, dataset_id: int) -> None:
        """Encode a new dataset's catalogue in a child process (the encoder chosen by size: the fast static
        one above 100,000 items), so search and the semantic space are ready when the user gets there.
        Explore shows its progress and Cancel; not for a screenshot."""
        encoding = getattr(self, "encoding", None)
        if encoding is not None and self.state.store is not None and not self.args.screenshot:
            encoding.start(self.state.store.url, dataset_id)

    def _choose_db(self) -> None:
        from PySide6.QtWidgets import QFileDialog
        path, _ = QFileDialog.getSaveFileName(self.window, "Open or create a database", "",
                                              "llmrec database (*.db);;All files (*)",
                                              options=QFileDialog.Option.DontConfirmOverwrite)
        if path:
            self.open_db(path)

    def open_db(self, path: str) -> None:
        from engine.runs.first_launch import open_and_prepare
        from llmrec_gui import workers
        workers.run_async(workers.here(), open_and_prepare, path, demo=False, engine_style=True,
                          on_done=self._booted, on_error=self._show_error)

    # ---- the store process stopped -----------------------------------------------------
    def _store_gone(self, why: str) -> None:
        """The database process died (killed, crashed): say so over the views, which keep what they show;
        every store call fails with the same message until Reopen."""
        self.window.store_banner.show_gone(why)
        self.window.set_database(f"{self.state.store.display_name} (stopped)")
        self.window.statusBar().showMessage(f"Error: {why}", 15000)

    def reopen_store(self) -> None:
        """Start the store process again on the same database and model folder; the selection stays."""
        store = self.state.store
        if store is None or self.state.store_lost is None or self._reopen_job is not None:
            return
        from engine.runs.first_launch import open_and_prepare
        from llmrec_gui import workers
        self.window.store_banner.show_reopening()
        self.state.message.emit(f"Reopening {store.display_name}…")
        self._reopen_job = workers.run_async(
            workers.here(), open_and_prepare, store.url, demo=False, artifacts=store.artifact_root, engine_style=True,
            on_done=self._reopened, on_error=self._reopen_failed)

    def _reopened(self, store) -> None:
        self._reopen_job = None
        self.state.set_store(store)          # the stopped one's handle is closed; the panels follow the new one
        wiz = getattr(self, "wizard", None)  # an import wizard left open imports into the reopened one
        if wiz is not None and getattr(wiz.store, "url", None) == store.url:
            wiz.store = store
        self.window.store_banner.clear()
        self.state.message.emit(f"Reopened {store.display_name}")
        self.state.refresh_datasets()        # keeps the dataset, run and user selected

    def _reopen_failed(self, msg: str) -> None:
        self._reopen_job = None
        self.window.store_banner.show_failed(msg)
        self.window.statusBar().showMessage(f"Error: could not reopen the database: {msg}", 15000)

    def show_guide(self):
        """Help ▸ Quick guide (F1): a non-modal window beside the app."""
        from llmrec_gui.widgets.guide import GuideDialog
        self.guide = GuideDialog(self.window.actions, self.window)
        self.guide.show()
        return self.guide

    def _about(self) -> None:
        from PySide6.QtWidgets import QMessageBox
        QMessageBox.about(self.window, "About llmrec", "llmrec: import interaction data, train a text-aware "
                          "LSTM two-tower recommender, and explore its recommendations, similarity and diversity.")

    def _show_error(self, msg: str) -> None:
        self.window.statusBar().showMessage(f"Error: {msg}", 15000)
        lost = self.state.store_lost
        if lost is not None and lost in msg:   # the banner says it (and offers Reopen): no dialog per action
            if self._reopen_job is None:
                self.window.store_banner.show_gone(lost)
            return
        if self.args.screenshot or os.environ.get("LLMREC_GUI_NO_DIALOGS"):
            print(f"llmrec-gui: {msg}", file=sys.stderr)
            return
        from PySide6.QtWidgets import QMessageBox
        box = QMessageBox(QMessageBox.Icon.Warning, "llmrec", msg, parent=self.window)
        box.open()

    def panel(self, view: str):
        return {"datasets": getattr(self, "datasets_panel", None), "train": getattr(self, "training_panel", None),
                "explore": getattr(self, "explorer_panel", None),
                "simulate": getattr(self, "simulate_panel", None)}[view]

    def shutdown(self) -> None:
        """Cancel the panels' jobs and every worker still running (on close and when the loop ends)."""
        if getattr(self, "encoding", None) is not None:
            self.encoding.shutdown()
        for name in ("datasets", "train", "explore", "simulate"):
            panel = self.panel(name)
            if panel is not None and hasattr(panel, "shutdown"):
                panel.shutdown()
        from llmrec_gui import workers
        workers.cancel_all()
