"""Composition root: arguments, QApplication, settings, the window, and the engine wiring.

The window is shown first; plots, the database and everything else load right after, and
TensorFlow never loads in this process (training runs in a child process)."""
from __future__ import annotations

import argparse
import os
import sys
import time

_T0 = time.perf_counter()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="llmrec-gui", description="llmrec desktop recommender explorer")
    p.add_argument("--db", help="database file or SQLAlchemy URL (default: the last one used, "
                                "then $LLMREC_DB or the user data dir)")
    p.add_argument("--screenshot", metavar="FILE", help="render a view offscreen to a PNG and exit")
    p.add_argument("--view", choices=("datasets", "train", "explore"), default=None,
                   help="the view to open (with --screenshot: the view to render)")
    p.add_argument("--size", default="1280x800", help="window size WxH (default 1280x800)")
    p.add_argument("--dataset", help="the dataset to open (name)")
    p.add_argument("--run", type=int, help="the run to open (id; default: the dataset's latest)")
    p.add_argument("--user", help="the user to explore (external id)")
    p.add_argument("--tradeoff", type=float, default=None, help="initial diversity trade-off in the explorer (0-1)")
    p.add_argument("--method", choices=("mmr", "dpp", "calibration"), help="re-ranking method in the explorer")
    p.add_argument("--space", choices=("model", "text", "genres"), help="similarity space of the explorer's heatmap")
    p.add_argument("--k", type=int, help="list length in the explorer (5-30)")
    p.add_argument("--artifacts", metavar="DIR", help="folder for model files (give a shared folder when --db is "
                                                      "a PostgreSQL server the team shares)")
    p.add_argument("--settings", help=argparse.SUPPRESS)  # an INI file instead of the platform's settings
    p.add_argument("--no-demo", action="store_true", help="do not create the demo dataset on first launch")
    p.add_argument("--quit-after-show", action="store_true", help=argparse.SUPPRESS)  # start-up timing
    return p.parse_args(argv)


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

    def build_panels(self) -> None:
        """Import the plotting stack and build the views (called once the window is on screen)."""
        from PySide6.QtWidgets import QApplication  # noqa: F401  (PySide6 first, then pyqtgraph)
        from llmrec_gui.widgets.datasets_panel import DatasetsPanel
        self.datasets_panel = DatasetsPanel(self.state)
        self.datasets_panel.import_requested.connect(lambda: self.open_import_wizard())
        self.window.set_panel("datasets", self.datasets_panel)
        from llmrec_gui.widgets.training_panel import TrainingPanel
        self.training_panel = TrainingPanel(self.state, self.window.actions)
        self.training_panel.explore_requested.connect(lambda: self.window.show_view("explore"))
        self.window.set_panel("train", self.training_panel)
        from llmrec_gui.widgets.explorer_panel import ExplorerPanel
        self.explorer_panel = ExplorerPanel(self.state, self.window.actions)
        self.explorer_panel.fit_requested.connect(self.training_panel.fit_baselines)
        self.explorer_panel.train_requested.connect(lambda: self.window.show_view("train"))
        self.window.set_panel("explore", self.explorer_panel)
        ep, a = self.explorer_panel, self.args
        if a.tradeoff is not None:
            ep.slider.setValue(min(1.0, max(0.0, a.tradeoff)))
        if a.method is not None:
            ep.method.setCurrentIndex(ep.method.findData(a.method))
        if a.space is not None:
            ep.space.setCurrentIndex(ep.space.findData(a.space))
        if a.k is not None:
            ep.k.setValue(a.k)
        if a.user is not None:
            self.state.prefer_user = a.user

    def start(self) -> None:
        """After the first show: build the panels, then open the database in a worker."""
        self.build_panels()
        from llmrec_gui import workers
        from engine.runs.first_launch import open_and_prepare
        db = self.args.db or self.settings.value("db") or None
        self.window.set_database("opening…")
        self.state.message.emit("Opening the database…")
        self._boot_job = workers.run_async(
            open_and_prepare, db, demo=not self.args.no_demo, engine_style=True,
            on_progress=lambda m: isinstance(m, str) and self.state.message.emit(m),
            on_done=self._booted, on_error=self._boot_failed)

    def _booted(self, store) -> None:
        self.booted = True
        self.state.set_store(store)
        self.state.message.emit(f"Opened {store.display_name}")
        if self.args.dataset is not None or self.args.run is not None:
            from llmrec_gui import workers
            from engine.runs.first_launch import find_dataset_and_run
            workers.run_async(find_dataset_and_run, store, self.args.dataset, self.args.run,
                              on_done=self._open_asked, on_error=self._open_failed)
        else:
            self.state.refresh_datasets()
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
        from llmrec_gui import workers
        from engine.runs.first_launch import ensure_baseline
        ds_id = summary.dataset_id
        self.state.fitting_baseline = ds_id
        self.state.refresh_datasets(select=ds_id)
        self.state.message.emit("Imported; fitting the EASE baseline in the background…")
        self.baseline_job = workers.run_async(
            ensure_baseline, self.state.store, ds_id,
            on_done=lambda run_id: self._baseline_ready(ds_id, run_id),
            on_error=lambda m: self._baseline_ready(ds_id, None, m))

    def _baseline_ready(self, dataset_id: int, run_id: int | None, error: str | None = None) -> None:
        self.state.fitting_baseline = None
        if error is not None:
            self._show_error(f"Fitting the EASE baseline failed: {error}")
            self.state.refresh_runs()
            return
        self.state.message.emit(f"EASE baseline ready (run {run_id}).")
        if self.state.dataset is not None and self.state.dataset.id == dataset_id:
            self.state.refresh_runs(select=run_id)

    def _choose_db(self) -> None:
        from PySide6.QtWidgets import QFileDialog
        path, _ = QFileDialog.getSaveFileName(self.window, "Open or create a database", "",
                                              "llmrec database (*.db);;All files (*)",
                                              options=QFileDialog.Option.DontConfirmOverwrite)
        if path:
            self.open_db(path)

    def open_db(self, path: str) -> None:
        from llmrec_gui import workers
        from engine.runs.first_launch import open_and_prepare
        workers.run_async(open_and_prepare, path, demo=False, engine_style=True,
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
        from llmrec_gui import workers
        from engine.runs.first_launch import open_and_prepare
        self.window.store_banner.show_reopening()
        self.state.message.emit(f"Reopening {store.display_name}…")
        self._reopen_job = workers.run_async(
            open_and_prepare, store.url, demo=False, artifacts=store.artifact_root, engine_style=True,
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

    # ---- screenshots -----------------------------------------------------------------
    def panel(self, view: str):
        return {"datasets": getattr(self, "datasets_panel", None), "train": getattr(self, "training_panel", None),
                "explore": getattr(self, "explorer_panel", None)}[view]

    def take_screenshot(self, path: str, view: str, app, timeout_s: float = 120.0) -> None:
        """When the view says it is ready (or after the timeout), grab the window to `path` and quit."""
        from PySide6.QtCore import QTimer
        self.window.show_view(view)
        done = {"shot": False}

        def shoot():
            if done["shot"]:
                return
            done["shot"] = True
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            ok = self.window.grab().save(path)
            print(f"llmrec-gui: {'wrote' if ok else 'could not write'} {path}")
            doc = self.view_record(view)
            if doc is not None:
                import json
                with open(path + ".json", "w", encoding="utf-8") as f:
                    json.dump(doc, f, indent=1)
                print(f"llmrec-gui: wrote {path}.json")
            app.exit(0 if ok else 1)

        panel = self.panel(view)
        poll = QTimer(self.window)

        def check():   # never waits on the TensorFlow device probe (not started for screenshots)
            if self.boot_error is not None or (self.booted and (panel is None or panel.is_complete())):
                poll.stop()
                QTimer.singleShot(400, shoot)

        poll.timeout.connect(check)
        poll.start(200)
        QTimer.singleShot(int(timeout_s * 1000), shoot)

    def view_record(self, view: str) -> dict | None:
        """What `view` shows, as data (written beside a screenshot as FILE.json)."""
        doc = {"view": view, "database": getattr(self.state.store, "url", None),
               "dataset": getattr(self.state.dataset, "name", None), "run": getattr(self.state.run, "id", None)}
        if view == "explore" and self.explorer_panel.rec is not None:
            doc.update(self.explorer_panel.snapshot())
        elif view == "explore":
            doc["empty"] = self.explorer_panel.empty.label.text()
        return doc

    def shutdown(self) -> None:
        """Cancel the panels' jobs and every worker still running (on close and when the loop ends)."""
        for name in ("datasets", "train", "explore"):
            panel = self.panel(name)
            if panel is not None and hasattr(panel, "shutdown"):
                panel.shutdown()
        from llmrec_gui import workers
        workers.cancel_all()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer
    try:
        from PySide6.QtWidgets import QApplication
    except ImportError as exc:      # a missing system library under Qt's own ones
        print(qt_help(str(exc)), file=sys.stderr)
        return 1
    install_message_filter()
    missing = [] if args.screenshot else missing_platform_libraries()
    if missing:
        print(qt_help(f"Qt's platform plugin cannot load: missing {', '.join(missing)}", missing), file=sys.stderr)
        return 1
    if args.artifacts:   # the store and the training child processes read it
        os.environ["LLMREC_ARTIFACTS"] = os.path.abspath(os.path.expanduser(args.artifacts))
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("llmrec")
    app.setOrganizationName("llmrec")
    ctrl = Controller(args)
    app.applicationStateChanged.connect(ctrl.app_state_changed)
    ctrl.window.show()
    if args.quit_after_show:
        app.processEvents()
        print(f"shown after {time.perf_counter() - _T0:.3f} s")
        sys.stdout.flush()
        os._exit(0)
    if args.view:
        ctrl.window.show_view(args.view)
    QTimer.singleShot(0, ctrl.start)
    if args.screenshot:
        QTimer.singleShot(0, lambda: ctrl.take_screenshot(args.screenshot, args.view or "explore", app))
    code = app.exec()
    ctrl.shutdown()                  # every job is cancelled: engine work stops at its next check
    from llmrec_gui import workers
    from llmrec_gui.state import close_store
    finished = workers.wait_all(10000)
    close_store(ctrl.state)
    if not finished:                     # a step that cannot be interrupted: never tear Qt down under it
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


# What Qt's xcb platform plugin loads on Linux (PySide6 wheels bring Qt, not these): soname -> Debian package.
QT_XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1", "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0", "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0", "libxcb-shm.so.0": "libxcb-shm0", "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0", "libxcb-xkb.so.1": "libxcb-xkb1", "libxcb-util.so.1": "libxcb-util1",
    "libX11-xcb.so.1": "libx11-xcb1", "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0", "libEGL.so.1": "libegl1", "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1", "libdbus-1.so.3": "libdbus-1-3",
}


def apt_line(packages) -> str:
    return "sudo apt-get install " + " ".join(packages)


def qt_help(reason: str, packages=None) -> str:
    packages = list(packages or QT_XCB_LIBRARIES.values())
    return (f"llmrec-gui: {reason}.\nOn Debian/Ubuntu install the system libraries Qt needs:\n  {apt_line(packages)}\n"
            "(or run without a display: QT_QPA_PLATFORM=offscreen llmrec-gui --screenshot out.png)")


def missing_platform_libraries(load=None) -> list[str]:
    """Debian packages of the libraries Qt's xcb plugin needs that cannot be loaded here. Checked before
    Qt starts: when its platform plugin cannot load, Qt aborts the process (nothing to catch) with a
    message naming one library of several."""
    if not sys.platform.startswith("linux"):
        return []
    chosen = os.environ.get("QT_QPA_PLATFORM", "")
    if chosen.split(":")[0] not in ("xcb", "") or (not chosen and os.environ.get("WAYLAND_DISPLAY")):
        return []
    if load is None:
        import ctypes
        load = ctypes.CDLL
    missing = []
    for soname, package in QT_XCB_LIBRARIES.items():
        try:
            load(soname)
        except OSError:
            missing.append(package)
    return missing


IGNORED_QT_MESSAGES = ("This plugin does not support propagateSizeHints()",  # offscreen platform plugin
                       "This plugin does not support raise()")


def install_message_filter() -> None:
    """Silence the offscreen platform plugin's 'propagateSizeHints' notice (harmless; it floods
    the screenshot and test logs); every other Qt message still goes to stderr."""
    from PySide6.QtCore import qInstallMessageHandler

    def handler(mode, context, message):
        if message in IGNORED_QT_MESSAGES:
            return
        sys.stderr.write(message + "\n")

    qInstallMessageHandler(handler)
