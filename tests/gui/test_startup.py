"""Start-up and quit (issue 22, items 4 and 5): the window is painted before anything else loads, the views
are built from modules imported in a worker thread, a database that opens first waits for them, and a
closed window leaves promptly and cleanly. Times are benchmarks/startup.py's; these assert the order."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading

from tests.gui.conftest import make_controller


def test_the_database_opening_before_the_views_are_built_is_shown_once_they_are(qtbot, tiny_db, tmp_path,
                                                                                  monkeypatch):
    import llmrec_gui.panels as panels
    release = threading.Event()
    real = panels.preload_views

    def slow_preload():                    # the imports finish only after the database has opened
        release.wait(60)
        real()

    monkeypatch.setattr(panels, "preload_views", slow_preload)
    from llmrec_gui.app import Controller, parse_args
    from llmrec_gui.settings import make_settings
    pre = make_settings(str(tmp_path / "gui.ini"))
    pre.setValue("train/auto_probe", "false")
    pre.setValue("explore/auto_frontier", "false")
    pre.sync()
    ctrl = Controller(parse_args(["--db", str(tiny_db), "--settings", str(tmp_path / "gui.ini")]))
    qtbot.addWidget(ctrl.window)
    ctrl.window.show()
    ctrl.start()
    qtbot.waitUntil(lambda: ctrl._opened_early is not None, timeout=60000)
    assert not ctrl.panels_built and not ctrl.booted      # opened, but nothing to show it in yet
    release.set()
    qtbot.waitUntil(lambda: ctrl.booted, timeout=60000)
    assert ctrl.panels_built and ctrl._opened_early is None
    qtbot.waitUntil(lambda: ctrl.datasets_panel.is_complete(), timeout=60000)
    from llmrec_gui import workers
    from llmrec_gui.state import close_store
    ctrl.shutdown()
    workers.wait_all(30000)
    close_store(ctrl.state)


def test_the_app_paints_first_then_opens_and_quits_cleanly(tiny_db, tmp_path):
    """A real app process: painted before the views are built, the view complete, then closed as a user
    closes it; it exits with 0, in the order below, and leaves no semaphore to the resource tracker."""
    env = dict(os.environ, LLMREC_GUI_TRACE_STARTUP="1", LLMREC_GUI_NO_DIALOGS="1", QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-m", "llmrec_gui", "--db", str(tiny_db), "--settings",
                          str(tmp_path / "s.ini"), "--view", "datasets", "--quit-when-complete"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    said = [m for m in re.findall(r"llmrec-gui startup: (.+?) [\d.]+", out.stderr) if m != "explore list shown"]
    assert said == ["painted", "views built", "database open", "complete datasets", "event loop ended",
                    "jobs stopped", "database closed"], out.stderr
    assert "leaked" not in out.stderr


def test_an_ended_child_run_releases_its_queue():
    from engine.jobs.executor import ChildRun
    from tests.engine.executor_targets import add
    run = ChildRun(add, (2, 3), {}).start()
    while run.poll() is None:
        run.process.join(0.05)
    assert run.poll() == ("done", 5)
    run.process.join(30)                                 # the child exits after reporting
    assert run.reap() and run._queue is None            # the named semaphores are unlinked now
    assert run.poll() == ("done", 5)                    # the outcome stays readable


def test_make_controller_still_boots(qtbot, tiny_db, tmp_path):
    ctrl = make_controller(qtbot, tiny_db, tmp_path)
    assert ctrl.panels_built and ctrl.booted
    ctrl.shutdown()
