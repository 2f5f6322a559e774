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
    p.add_argument("--tradeoff", type=float, default=None, help="initial diversity trade-off in the explorer (0-1)")
    p.add_argument("--artifacts", metavar="DIR", help="folder for model files (give a shared folder when --db is "
                                                      "a PostgreSQL server the team shares)")
    p.add_argument("--settings", help=argparse.SUPPRESS)  # an INI file instead of the platform's settings
    p.add_argument("--no-demo", action="store_true", help="do not create the demo dataset on first launch")
    p.add_argument("--quit-after-show", action="store_true", help=argparse.SUPPRESS)  # start-up timing
    return p.parse_args(argv)


class Controller:
    """Owns the state, the window and the panels; wires them together."""

    def __init__(self, args: argparse.Namespace):
        from .main_window import MainWindow
        from .settings import make_settings
        from .state import AppState
        self.args = args
        self.settings = make_settings(args.settings)
        self.state = AppState(self.settings)
        self.window = MainWindow()
        w, h = (int(x) for x in args.size.lower().split("x"))
        self.window.resize(w, h)
        self.boot_error: str | None = None
        self.booted = False
        self._wire_static()

    # ---- wiring ----------------------------------------------------------------------
    def _wire_static(self) -> None:
        st, win, a = self.state, self.window, self.window.actions
        st.error.connect(self._show_error)
        st.message.connect(lambda m: win.statusBar().showMessage(m, 8000))
        st.store_changed.connect(lambda s: win.set_database(s.display_name))
        st.device_changed.connect(win.set_device)
        a.quit.triggered.connect(win.close)
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
        from .widgets.datasets_panel import DatasetsPanel
        self.datasets_panel = DatasetsPanel(self.state)
        self.datasets_panel.import_requested.connect(lambda: self.open_import_wizard())
        self.window.set_panel("datasets", self.datasets_panel)
        from .widgets.training_panel import TrainingPanel
        self.training_panel = TrainingPanel(self.state, self.window.actions)
        self.training_panel.explore_requested.connect(lambda: self.window.show_view("explore"))
        self.window.set_panel("train", self.training_panel)
        from .widgets.explorer_panel import ExplorerPanel
        self.explorer_panel = ExplorerPanel(self.state, self.window.actions)
        self.window.set_panel("explore", self.explorer_panel)
        if self.args.tradeoff is not None:
            self.explorer_panel.slider.setValue(min(1.0, max(0.0, self.args.tradeoff)))

    def start(self) -> None:
        """After the first show: build the panels, then open the database in a worker."""
        self.build_panels()
        from . import workers
        from .bootstrap import open_and_prepare
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
        self.state.refresh_datasets()
        if self.training_panel.auto_probe:
            self.training_panel.probe_devices()   # TensorFlow, in a child process at low priority

    def _boot_failed(self, msg: str) -> None:
        self.boot_error = msg
        self.window.set_database("not open")
        self._show_error(f"Could not open the database: {msg}")

    # ---- actions ---------------------------------------------------------------------
    def open_import_wizard(self, paths: list[str] | None = None):
        if self.state.store is None:
            self.state.message.emit("The database is still opening…")
            return None
        from .wizard.import_wizard import ImportWizard
        wiz = ImportWizard(self.state.store, paths=paths, parent=self.window)
        wiz.imported.connect(lambda summary: self.state.refresh_datasets(select=summary.dataset_id))
        wiz.open()
        self.wizard = wiz
        return wiz

    def _choose_db(self) -> None:
        from PySide6.QtWidgets import QFileDialog
        path, _ = QFileDialog.getSaveFileName(self.window, "Open or create a database", "",
                                              "llmrec database (*.db);;All files (*)",
                                              options=QFileDialog.Option.DontConfirmOverwrite)
        if path:
            self.open_db(path)

    def open_db(self, path: str) -> None:
        from . import workers
        from .bootstrap import open_and_prepare
        workers.run_async(open_and_prepare, path, demo=False, engine_style=True,
                          on_done=self._booted, on_error=self._show_error)

    def _about(self) -> None:
        from PySide6.QtWidgets import QMessageBox
        QMessageBox.about(self.window, "About llmrec", "llmrec: import interaction data, train a text-aware "
                          "LSTM two-tower recommender, and explore its recommendations, similarity and diversity.")

    def _show_error(self, msg: str) -> None:
        self.window.statusBar().showMessage(f"Error: {msg}", 15000)
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
            app.exit(0 if ok else 1)

        panel = self.panel(view)
        poll = QTimer(self.window)

        def check():
            tp = self.training_panel
            probing = tp.auto_probe and tp.devices is None and not tp.probe_failed
            if not probing and (panel is None or getattr(panel, "is_complete", lambda: True)()):
                poll.stop()
                QTimer.singleShot(400, shoot)

        poll.timeout.connect(check)
        poll.start(200)
        QTimer.singleShot(int(timeout_s * 1000), shoot)

    def shutdown(self) -> None:
        """Cancel the panels' jobs (called when the event loop ends)."""
        for name in ("datasets", "train", "explore"):
            panel = self.panel(name)
            if panel is not None and hasattr(panel, "shutdown"):
                panel.shutdown()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    install_message_filter()
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
    ctrl.shutdown()
    from . import workers
    from .state import close_store
    workers.wait_all(5000)
    close_store(ctrl.state)
    return code


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
