"""The app starts, lists datasets with their counts, remembers its state, and renders screenshots."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.gui.conftest import make_controller

ROOT = Path(__file__).resolve().parents[2]


def test_window_lists_datasets_with_counts(qtbot, controller):
    panel = controller.datasets_panel
    qtbot.waitUntil(lambda: panel.table.rowCount() == 1, timeout=30000)
    assert panel.table.item(0, 0).text() == "Demo movies"
    assert panel.table.item(0, 2).text() == "200"
    qtbot.waitUntil(lambda: panel.stats is not None, timeout=30000)
    assert panel.stats.n_items == 200 and panel.stats.per_item.sum() == panel.stats.n_interactions
    assert "Database:" in controller.window.db_label.text() and "tiny.db" in controller.window.db_label.text()


def test_first_launch_creates_demo_in_worker_and_settings_remember(qtbot, tmp_path, monkeypatch):
    import inspect

    import engine.data.demo as demo
    ctrl = make_controller(qtbot, tmp_path / "fresh.db", tmp_path)   # the demo is made in the store process
    qtbot.waitUntil(lambda: ctrl.state.dataset is not None, timeout=60000)
    n_items = inspect.signature(demo.generate_demo).parameters["n_items"].default
    assert ctrl.state.dataset.name == demo.DEMO_NAME and ctrl.state.dataset.n_items == n_items
    assert ctrl.settings.value("db").endswith("fresh.db")
    assert int(ctrl.settings.value("dataset")) == ctrl.state.dataset.id


def test_window_shows_fast_without_heavy_imports(tmp_path):
    """The window is shown with neither TensorFlow, pyqtgraph, SQLAlchemy nor numpy imported before it
    (what makes it fast whatever the load; the seconds are measured by benchmarks/gui_stall.py)."""
    import os
    import re
    code = ("import sys; from llmrec_gui.app import main; "
            "main(['--db', sys.argv[1], '--settings', sys.argv[2], '--quit-after-show'])")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    walls = []
    for _ in range(2):
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-X", "importtime", "-c", code, str(tmp_path / "x.db"),
                              str(tmp_path / "s.ini")], capture_output=True, text=True, env=env, cwd=ROOT,
                             timeout=60)
        walls.append(time.perf_counter() - t0)
        assert "shown after" in out.stdout, out.stderr[-2000:]
        for heavy in ("tensorflow", "pyqtgraph", "sqlalchemy", "numpy"):
            assert not re.search(rf"\|\s+{heavy}$", out.stderr, re.M), f"{heavy} loaded before the window was shown"
    print(f"process start to window shown: {', '.join(f'{w:.2f}' for w in walls)} s")
    # (no wall-clock bound: the figure is in benchmarks/gui_stall.py; what load cannot change is asserted)


def test_screenshot_writes_png(tiny_db, tmp_path):
    png = tmp_path / "shot.png"
    from llmrec_gui.settings import make_settings
    pre = make_settings(str(tmp_path / "s.ini"))
    pre.setValue("explore/auto_frontier", "false")
    pre.sync()
    env = {**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen", "LLMREC_GUI_NO_DIALOGS": "1"}
    out = subprocess.run([sys.executable, "-m", "llmrec_gui", "--db", str(tiny_db), "--settings",
                          str(tmp_path / "s.ini"), "--screenshot", str(png), "--view", "datasets"],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert png.stat().st_size > 10_000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "propagateSizeHints" not in out.stderr


def test_dropped_files_open_the_wizard_and_the_import_is_selected(qtbot, controller):
    from PySide6.QtWidgets import QWizard
    data = ROOT / "tests" / "data" / "ml-1m"
    qtbot.waitUntil(lambda: controller.state.dataset is not None, timeout=30000)
    controller.window.file_dropped([str(data / "ratings.dat"), str(data / "movies.dat")])
    wiz = controller.wizard
    assert wiz.files_page.paths()[0].endswith("ratings.dat")
    for _ in range(3):
        wiz.next()
    qtbot.waitUntil(lambda: bool(wiz.validate_page.ok or wiz.validate_page.error), timeout=30000)
    with qtbot.waitSignal(wiz.imported, timeout=30000):
        wiz.next()
    wiz.button(QWizard.WizardButton.FinishButton).click()
    qtbot.waitUntil(lambda: controller.datasets_panel.table.rowCount() == 2, timeout=30000)
    qtbot.waitUntil(lambda: controller.state.dataset is not None and controller.state.dataset.name == "ml-1m",
                    timeout=30000)
    qtbot.waitUntil(lambda: controller.datasets_panel.stats is not None
                    and controller.datasets_panel.stats.name == "ml-1m", timeout=30000)


def test_reopens_last_run_and_user(qtbot, tiny_db, tmp_path):
    from llmrec_gui import workers
    first = make_controller(qtbot, tiny_db, tmp_path)
    ex = first.explorer_panel
    qtbot.waitUntil(lambda: ex.rec is not None, timeout=60000)
    other = next(u for u in range(5) if u != first.state.user)
    first.state.select_user(other)
    qtbot.waitUntil(lambda: ex.live is not None and ex.live.user == other, timeout=30000)
    run_id = first.state.run.id
    first.shutdown()
    first.window.close()
    workers.wait_all(30000)
    first.settings.sync()
    second = make_controller(qtbot, tiny_db, tmp_path)
    ex2 = second.explorer_panel
    qtbot.waitUntil(lambda: ex2.rec is not None, timeout=60000)
    assert second.state.run.id == run_id and second.state.user == other and ex2.live.user == other
    second.shutdown()
    workers.wait_all(30000)


def test_keyboard_shortcuts_switch_views(qtbot, controller):
    from PySide6.QtCore import Qt
    win = controller.window
    for key, index in ((Qt.Key.Key_3, 2), (Qt.Key.Key_2, 1), (Qt.Key.Key_1, 0)):
        qtbot.keyClick(win, key, Qt.KeyboardModifier.ControlModifier)
        assert win.tabs.currentIndex() == index
    shortcuts = {a.shortcut().toString() for a in vars(win.actions).values() if hasattr(a, "shortcut")}
    assert {"Ctrl+I", "Ctrl+T", "Ctrl+E", "Ctrl+1"} <= shortcuts


def test_items_per_genre_shows_every_genre():
    from llmrec_gui.widgets.dataset_plots import GENRE_BARS, genre_bars
    few = [(f"g{i}", 100 - i) for i in range(19)]                  # MovieLens 100K: 19 genres, all shown
    assert genre_bars(few) == few
    many = [(f"t{i}", 1000 - i) for i in range(120)]
    bars = genre_bars(many)
    assert len(bars) == GENRE_BARS and bars[:GENRE_BARS - 1] == many[:GENRE_BARS - 1]
    assert bars[-1] == (f"{120 - GENRE_BARS + 1} other genres", sum(c for _, c in many[GENRE_BARS - 1:]))
    assert sum(c for _, c in bars) == sum(c for _, c in many)   # nothing dropped


def test_missing_qt_system_libraries_print_the_apt_line(monkeypatch, tmp_path, capsys):
    from llmrec_gui import app
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setattr(app.sys, "platform", "linux")

    def fake_load(soname):
        if soname in ("libxcb-icccm.so.4", "libxcb-keysyms.so.1"):
            raise OSError(f"{soname}: cannot open shared object file")

    assert app.missing_platform_libraries(fake_load) == ["libxcb-icccm4", "libxcb-keysyms1"]
    monkeypatch.setattr(app, "missing_platform_libraries", lambda: ["libxcb-icccm4", "libxcb-keysyms1"])
    assert app.main(["--db", str(tmp_path / "x.db"), "--settings", str(tmp_path / "s.ini")]) == 1
    err = capsys.readouterr().err
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1" in err
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for package in app.QT_XCB_LIBRARIES.values():              # the README lists every one of them
        assert package in readme, package
