"""Issue 19, section 5: the app when its database process dies. kill -9 of the store process while the
app runs: the window says so ("The database process stopped: reopen?"), actions in between fail with
that message (not silently), the dead child is reaped, and Reopen starts a new store process on the
same database and model folder with the view, dataset, run and user still selected."""
from __future__ import annotations

import os
import signal

from PySide6.QtCore import Qt

from tests.gui.conftest import make_controller


def _state(pid: int) -> str | None:
    """The process's state letter in /proc ('Z' for a zombie), None once it is reaped."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None


def test_killed_store_process_is_shown_actions_fail_clearly_and_reopen_keeps_the_place(qtbot, tiny_db, tmp_path):
    ctrl = make_controller(qtbot, tiny_db, tmp_path)
    win, st, ex = ctrl.window, ctrl.state, ctrl.explorer_panel
    banner = win.store_banner
    win.show_view("explore")
    qtbot.waitUntil(lambda: ex.rec is not None and ex.live is not None, timeout=60000)
    user = next(u for u in range(5) if u != st.user)               # a place that is not the default one
    st.select_user(user)
    qtbot.waitUntil(lambda: ex.live is not None and ex.live.user == user and ex.rec is not None, timeout=30000)
    place = (win.tabs.currentIndex(), st.dataset.id, st.run.id, st.user)
    old = st.store
    pid = old.pid
    assert banner.isHidden() and old.alive

    os.kill(pid, signal.SIGKILL)
    with qtbot.waitSignal(st.store_gone, timeout=30000) as gone:    # noticed while idle: no call was made
        pass
    why = "the database process stopped (exit code -9)"
    assert gone.args == [why] and st.store_lost == why
    assert banner.isVisible() and banner.text().startswith("The database process stopped: reopen?")
    assert "exit code -9: killed by SIGKILL" in banner.text() and banner.button.isEnabled()
    assert "(stopped)" in win.db_label.text()
    assert _state(pid) is None and old.process.exitcode == -9       # reaped: no <defunct> child
    assert ex.rec is not None and ex.list.rowCount() > 0             # what was on screen stays

    # F5 in between: fails with the same message, promptly (the call raises, nothing hangs)
    win.statusBar().clearMessage()
    win.actions.refresh.trigger()
    qtbot.waitUntil(lambda: why in win.statusBar().currentMessage(), timeout=30000)
    # L (like) in between: the explorer says it too, and nothing was stored
    ex.list.select_position(0)
    liked = ex.list.selected_item()
    n_feedback = len(ex.live.feedback)
    win.statusBar().clearMessage()
    win.actions.like.trigger()
    qtbot.waitUntil(lambda: why in ex.status.text() and why in win.statusBar().currentMessage(), timeout=30000)
    assert len(ex.live.feedback) == n_feedback
    assert banner.isVisible()

    # Reopen: a new store process on the same database and model folder, the place kept
    with qtbot.waitSignal(ex.list_updated, timeout=60000):          # the user's list re-read through the new one
        qtbot.mouseClick(banner.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: st.store is not old and banner.isHidden(), timeout=60000)
    new = st.store
    assert new.alive and new.pid != pid and new.url == old.url and new.artifact_root == old.artifact_root
    assert st.store_lost is None and "(stopped)" not in win.db_label.text()
    qtbot.waitUntil(lambda: ex.live is not None and ex.live.user == user and ex.rec is not None
                    and ex.run.source.store is new, timeout=60000)
    assert (win.tabs.currentIndex(), st.dataset.id, st.run.id, st.user) == place
    assert ex.users.view.currentIndex().isValid()
    # and the like works again, through the new process
    with qtbot.waitSignal(ex.list_updated, timeout=30000):
        ex.give_feedback(liked, "like")
    assert liked in [e.item for e in ex.live.feedback]
    win.grab().save(str(tmp_path / "after.png"))


def test_a_store_process_killed_during_a_call_is_reported_too(qtbot, tiny_db, tmp_path):
    """Killed while a job waits on the store process (the Datasets view open): that job fails with the
    message, after the window heard why (no dialog per failure); F5 reports it too; Reopen brings the
    Datasets view's figures back for the same dataset."""
    from llmrec_gui import workers
    from tests.engine import store_calls
    ctrl = make_controller(qtbot, tiny_db, tmp_path, "--view", "datasets")
    win, st, panel = ctrl.window, ctrl.state, ctrl.datasets_panel
    win.show_view("datasets")
    qtbot.waitUntil(lambda: panel.stats is not None, timeout=60000)
    ds, pid = st.dataset.id, st.store.pid
    started, failed = [], []
    job = workers.run_async(workers.on_store(st.store), store_calls.report_then_wait_for_cancel, engine_style=True,
                            on_progress=started.append, on_error=lambda m: failed.append((m, st.store_lost)))
    qtbot.waitUntil(lambda: bool(started), timeout=30000)             # it runs there now
    with qtbot.waitSignal(job.signals.done, timeout=30000):
        os.kill(pid, signal.SIGKILL)
    why = "the database process stopped (exit code -9)"
    assert failed == [(why, why)]                                     # the window knew before the job failed
    assert win.store_banner.isVisible() and _state(pid) is None
    panel.stats = None
    win.statusBar().clearMessage()
    win.actions.refresh.trigger()                                     # F5: datasets, runs, figures
    qtbot.waitUntil(lambda: why in win.statusBar().currentMessage(), timeout=30000)
    ctrl.reopen_store()
    qtbot.waitUntil(lambda: win.store_banner.isHidden() and panel.stats is not None, timeout=60000)
    assert st.dataset.id == ds and panel.stats.dataset_id == ds and win.tabs.currentIndex() == 0
    assert st.store.alive and st.store.pid != pid


def test_a_reopen_that_fails_says_why_and_can_be_tried_again(qtbot, tiny_db, tmp_path):
    """The database file is not a database when Reopen runs (swapped for junk): the banner says reopening
    failed and offers to try again; with the file back, Try again reopens it with the dataset still selected."""
    ctrl = make_controller(qtbot, tiny_db, tmp_path, "--view", "datasets")
    st, banner = ctrl.state, ctrl.window.store_banner
    qtbot.waitUntil(lambda: ctrl.datasets_panel.stats is not None, timeout=60000)
    ds, pid = st.dataset.id, st.store.pid
    os.kill(pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: st.store_lost is not None and banner.isVisible(), timeout=30000)
    aside = tmp_path / "aside"
    aside.mkdir()
    files = [p for p in (tiny_db, tiny_db.with_name(tiny_db.name + "-wal"), tiny_db.with_name(tiny_db.name + "-shm"))
             if p.exists()]
    for p in files:
        os.replace(p, aside / p.name)
    tiny_db.write_bytes(b"not a database at all " * 200)
    qtbot.mouseClick(banner.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Reopening failed" in banner.text() and banner.button.isEnabled(), timeout=60000)
    assert banner.button.text() == "Try again" and st.store_lost is not None and not st.store.alive
    assert "file is not a database" in banner.text() and "Background on this error" not in banner.text()
    for p in files:
        os.replace(aside / p.name, p)
    ctrl.datasets_panel.stats = None
    qtbot.mouseClick(banner.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: banner.isHidden() and st.store_lost is None, timeout=60000)
    qtbot.waitUntil(lambda: ctrl.datasets_panel.stats is not None and ctrl.datasets_panel.stats.dataset_id == ds,
                    timeout=60000)
    assert st.store.alive and st.store.pid != pid and st.dataset.id == ds
