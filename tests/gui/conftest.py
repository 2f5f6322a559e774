"""GUI fixtures: a tiny demo database under tmp_path, an INI settings file, and the app controller."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["LLMREC_GUI_NO_DIALOGS"] = "1"

TINY = dict(n_items=200, n_users=150)


@pytest.fixture(scope="session")
def tiny_db_template(tmp_path_factory):
    """A tiny demo dataset and its EASE baseline, built once."""
    from engine.data.demo import DEMO_NAME, create_demo_dataset
    from engine.runs.first_launch import ensure_baseline
    from engine.store import open_store
    path = tmp_path_factory.mktemp("tinydb") / "tiny.db"
    s = open_store(str(path))
    create_demo_dataset(s, **TINY)
    ensure_baseline(s, DEMO_NAME)
    s.close()
    return path


@pytest.fixture
def tiny_db(tiny_db_template, tmp_path):
    """A private copy of the tiny database (and its model files) for one test."""
    import shutil
    import sqlite3
    dst = tmp_path / "tiny.db"
    src = sqlite3.connect(str(tiny_db_template))
    out = sqlite3.connect(str(dst))
    src.backup(out)
    src.close()
    out.close()
    files = tiny_db_template.with_name(tiny_db_template.name + ".files")
    if files.exists():
        shutil.copytree(files, dst.with_name(dst.name + ".files"))
    return dst


@pytest.fixture(autouse=True)
def no_qt_warnings(qtlog):
    """Every GUI test fails on a Qt warning (the offscreen plugin's 'propagateSizeHints' notice aside)."""
    yield
    from PySide6.QtCore import QtMsgType

    from llmrec_gui.app import IGNORED_QT_MESSAGES
    bad = [r.message for r in qtlog.records
           if r.type in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg)
           and r.message.strip() not in IGNORED_QT_MESSAGES]
    assert not bad, f"Qt warnings: {bad}"


_made: list = []


@pytest.fixture(autouse=True)
def close_store_processes():
    """Stop the store process of every controller a test made (after its jobs are done)."""
    yield
    from llmrec_gui import workers
    from llmrec_gui.state import close_store
    workers.wait_all(30000)
    while _made:
        close_store(_made.pop().state)


def make_controller(qtbot, db, tmp_path, *extra: str, auto_frontier: bool = False):
    from llmrec_gui.app import Controller, parse_args
    from llmrec_gui.settings import make_settings
    pre = make_settings(str(tmp_path / "gui.ini"))
    pre.setValue("explore/auto_frontier", "true" if auto_frontier else "false")
    pre.setValue("train/auto_probe", "false")
    pre.sync()
    args = parse_args(["--db", str(db), "--settings", str(tmp_path / "gui.ini"), *extra])
    ctrl = Controller(args)
    _made.append(ctrl)
    qtbot.addWidget(ctrl.window)
    ctrl.window.show()
    ctrl.start()
    qtbot.waitUntil(lambda: ctrl.booted or ctrl.boot_error is not None, timeout=60000)
    assert ctrl.boot_error is None, ctrl.boot_error
    return ctrl


@pytest.fixture
def controller(qtbot, tiny_db, tmp_path):
    ctrl = make_controller(qtbot, tiny_db, tmp_path)
    yield ctrl
    from llmrec_gui import workers
    ctrl.shutdown()            # the panels' jobs and child processes, as on close
    workers.wait_all(30000)


@pytest.fixture
def explorer(qtbot, controller):
    """The Explore view with the tiny demo's baseline list on screen."""
    panel = controller.explorer_panel
    controller.window.show_view("explore")
    qtbot.waitUntil(lambda: panel.rec is not None and len(panel.rec.rows) == 10, timeout=60000)
    return panel
