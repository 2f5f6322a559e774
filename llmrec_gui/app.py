"""Composition root: arguments, QApplication, settings, the window, and the engine wiring.

The window is shown first; plots, the database and everything else load right after, and
TensorFlow never loads in this process (training runs in a child process). The controller is in
controller.py, window assembly in panels.py, the screenshot mode in screenshot.py."""
from __future__ import annotations

import argparse
import os
import sys
import time

from llmrec_gui.controller import Controller  # noqa: F401 (tests and scripts import it from here)
from llmrec_gui.qt_platform import (  # noqa: F401
    IGNORED_QT_MESSAGES,
    QT_XCB_LIBRARIES,
    apt_line,
    install_message_filter,
    missing_platform_libraries,
    qt_help,
)

_T0 = time.perf_counter()
QUIT_WAIT_MS = 2000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="llmrec-gui", description="llmrec desktop recommender explorer")
    p.add_argument("--db", help="database file or SQLAlchemy URL (default: the last one used, "
                                "then $LLMREC_DB or the user data dir)")
    p.add_argument("--screenshot", metavar="FILE", help="render a view offscreen to a PNG and exit")
    p.add_argument("--view", choices=("datasets", "train", "explore", "simulate"), default=None,
                   help="the view to open (with --screenshot: the view to render)")
    p.add_argument("--size", default="1280x800", help="window size WxH (default 1280x800)")
    p.add_argument("--dataset", help="the dataset to open (name)")
    p.add_argument("--run", type=int, help="the run to open (id; default: the dataset's latest)")
    p.add_argument("--user", help="the user to explore (external id)")
    p.add_argument("--tradeoff", type=float, default=None, help="initial diversity trade-off in the explorer (0-1)")
    p.add_argument("--method", choices=("mmr", "ild", "dpp", "calibration"), help="re-ranking method in the explorer")
    p.add_argument("--rerank-space", choices=("auto", "model", "categories", "semantic", "text"),
                   help="space the explorer's slider re-ranks in (default: the last one used, first auto)")
    p.add_argument("--space", choices=("model", "text", "genres"), help="similarity space of the explorer's heatmap")
    p.add_argument("--k", type=int, help="list length in the explorer (5-30)")
    p.add_argument("--artifacts", metavar="DIR", help="folder for model files (give a shared folder when --db is "
                                                      "a PostgreSQL server the team shares)")
    p.add_argument("--settings", help=argparse.SUPPRESS)  # an INI file instead of the platform's settings
    p.add_argument("--no-demo", action="store_true", help="do not create the demo dataset on first launch")
    p.add_argument("--quit-after-show", action="store_true", help=argparse.SUPPRESS)  # start-up timing
    p.add_argument("--quit-when-complete", action="store_true", help=argparse.SUPPRESS)  # benchmarks/startup.py
    return p.parse_args(argv)


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
    from llmrec_gui import tooltips
    tooltips.install(app)
    from llmrec_gui.screenshot import take_screenshot, when_complete
    from llmrec_gui.startup_trace import mark, watch_stalls
    ctrl = Controller(args)
    app.applicationStateChanged.connect(ctrl.app_state_changed)
    ctrl.window.show()
    app.processEvents()              # painted before anything else loads: never a black window
    mark("painted")
    watch_stalls()
    if args.quit_after_show:
        print(f"shown after {time.perf_counter() - _T0:.3f} s")
        sys.stdout.flush()
        os._exit(0)
    if args.view:
        ctrl.window.show_view(args.view)
    QTimer.singleShot(0, ctrl.start)
    if args.screenshot:
        QTimer.singleShot(0, lambda: take_screenshot(ctrl, args.screenshot, args.view or "explore", app))
    elif args.quit_when_complete:       # the start-up benchmark: open, show the view, close as a user would
        view = args.view or "datasets"
        QTimer.singleShot(0, lambda: when_complete(ctrl, view, ctrl.window.close))
    code = app.exec()
    mark("event loop ended")
    ctrl.shutdown()                  # every job is cancelled: engine work stops at its next check
    from llmrec_gui import workers
    from llmrec_gui.state import close_store
    if args.screenshot:   # the picture is written, nothing of the user's is pending (a frontier being cached
        #                   is written aside and renamed): close the store process and go
        close_store(ctrl.state)
        mark("database closed")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    # Every job was asked to stop; a step between two checks gets 2 s. The app's own threads only compute
    # or wait on the store process (which writes, and finishes or rolls back its call when closed), so
    # leaving without them loses nothing: a user who closes the window gets their prompt back at once.
    finished = workers.wait_all(QUIT_WAIT_MS)
    mark("jobs stopped")
    close_store(ctrl.state)
    mark("database closed")
    if not finished:                     # a step that cannot be interrupted: never tear Qt down under it
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
