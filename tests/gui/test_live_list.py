"""One live list for the app and the CLI: the same feedback given through the app's widgets and
through `llmrec feedback` gives the identical list; undo (Edit menu, Ctrl+Z, the list's context
menu, the feedback history), not interested, feedback from another process on re-select and F5,
and `llmrec-gui --screenshot ... --view explore` agreeing with `llmrec explore --json`."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton

ROOT = Path(__file__).resolve().parents[2]


def copy_db(template: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    src, out = sqlite3.connect(str(template)), sqlite3.connect(str(dst))
    src.backup(out)
    src.close()
    out.close()
    files = template.with_name(template.name + ".files")
    if files.exists():
        shutil.copytree(files, dst.with_name(dst.name + ".files"))
    return dst


def cli(capsys, *argv) -> str:
    from engine.cli.main import main
    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


def ids(rec) -> list[str]:
    return [r.external_id for r in rec.rows]


def wait_list(qtbot, panel, pred, timeout=20000):
    qtbot.waitUntil(lambda: panel.rec is not None and pred(), timeout=timeout)


def test_same_feedback_through_cli_and_app_gives_the_identical_list(qtbot, explorer, controller, tiny_db_template,
                                                                     tmp_path, capsys):
    panel, actions = explorer, controller.window.actions
    ds = panel.run.dataset
    user_ext = str(ds.user_ids[panel.live.user])
    steps = []

    def did(kind, row):
        steps.append((kind, panel.rec.rows[row].external_id))

    # 1. dislike the top item with its row button: its neighbours are demoted too (the engine's rule)
    before = ids(panel.rec)
    did("dislike", 0)
    with qtbot.waitSignal(panel.list_updated, timeout=20000):
        qtbot.mouseClick(panel.list.findChild(QToolButton, "dislike-0"), Qt.MouseButton.LeftButton)
    assert before[0] not in ids(panel.rec)
    # 2. like the third through the list's context menu
    did("like", 2)
    menu = panel.list.context_menu(2)
    with qtbot.waitSignal(panel.list_updated, timeout=20000):
        next(a for a in menu.actions() if a.objectName() == "like").trigger()
    # 3. not interested in the second through the Edit menu action (N)
    panel.list.select_position(1)
    did("not_interested", 1)
    with qtbot.waitSignal(panel.list_updated, timeout=20000):
        actions.not_interested.trigger()
    # 4. dislike the first again, then undo it with Ctrl+Z (the Edit menu's Undo)
    did("dislike", 0)
    with qtbot.waitSignal(panel.list_updated, timeout=20000):
        panel.give_feedback(panel.rec.rows[0].item, "dislike")
    assert actions.undo.isEnabled() and actions.undo.shortcut().toString() == "Ctrl+Z"
    assert "Undo" in [a.text().replace("&", "").split(" ")[0] for a in
                      controller.window.menuBar().actions()[1].menu().actions()]
    with qtbot.waitSignal(panel.list_updated, timeout=20000):
        actions.undo.trigger()
    steps.append(("undo", None))
    assert [e.kind for e in panel.live.feedback] == ["dislike", "like", "not_interested"]
    app_list = ids(panel.rec)

    # the same steps through the CLI on a copy of the same database
    db = str(copy_db(tiny_db_template, tmp_path / "cli" / "tiny.db"))
    name, run = ds.info.name, panel.run.info.id
    for kind, item in steps:
        if kind == "undo":
            cli(capsys, "--db", db, "feedback", "undo", "--dataset", name, "--user", user_ext)
        else:
            cli(capsys, "--db", db, "feedback", kind, "--dataset", name, "--user", user_ext, "--item", item)
    doc = json.loads(cli(capsys, "--db", db, "explore", "--run", str(run), "--user", user_ext, "--space",
                         panel.live.candidates().space, "--json"))
    assert [r["item"] for r in doc["items"]] == app_list
    assert doc["items"] == panel.snapshot()["items"]
    assert doc["metrics"] == panel.snapshot()["metrics"]
    # and the dislike demoted the disliked item's nearest neighbours in the app (not only hid it)
    from engine.explore.similarity import nearest_items
    disliked = int(np.flatnonzero(ds.item_ids == steps[0][1])[0])
    nb, sims = nearest_items([disliked], panel.live.neighbour_space(), dataset=ds, model=panel.run.model, n=20)
    cand = panel.live.candidates()
    raw = panel.run.model.score(*panel.live.history())
    close = [i for i, s in zip(nb[0], sims[0]) if s > 0.2 and i in cand.items]
    assert close and all(cand.scores[list(cand.items).index(i)] < raw[i] for i in close)


def test_feedback_history_undoes_any_entry_and_counts_follow(qtbot, explorer, controller):
    panel = explorer
    user = panel.live.user
    model = panel.users.model
    count = lambda: model.count_of(user)  # noqa: E731
    n0 = count()
    first, second = panel.rec.rows[0].item, panel.rec.rows[1].item
    with qtbot.waitSignal(panel.list_updated, timeout=20000):
        panel.give_feedback(first, "like")
    assert count() == n0 + 1 and f"({n0 + 1} interactions)" in model.index(model.row_of(user), 0).data()
    with qtbot.waitSignal(panel.list_updated, timeout=20000):
        panel.give_feedback(second, "not_interested")
    fb = panel.feedback_view
    top = [fb.topLevelItem(i) for i in range(fb.topLevelItemCount())]
    assert len(top) == 2 and top[0].text(0) == "Not interested" and top[1].text(0) == "Liked"
    assert top[1].text(1) == panel.run.dataset.titles[first] and "UTC" in top[1].toolTip(2)
    assert all(t.childCount() == 0 for t in top)            # clicks are rows of their own
    like_id = panel.live.feedback[0].id
    with qtbot.waitSignal(panel.list_updated, timeout=20000):     # undo the older entry, not the latest
        qtbot.mouseClick(fb.findChild(QToolButton, f"undo-{like_id}"), Qt.MouseButton.LeftButton)
    assert [e.kind for e in panel.live.feedback] == ["not_interested"]
    assert count() == n0 and first in [r.item for r in panel.rec.rows]
    assert second not in [r.item for r in panel.rec.rows]


def test_feedback_from_another_process_shows_on_reselect_and_f5(qtbot, explorer, controller, capsys):
    panel, st = explorer, controller.state
    ds = panel.run.dataset
    user = panel.live.user
    top = panel.rec.rows[0]
    db = st.store.url
    cli(capsys, "--db", db, "feedback", "dislike", "--dataset", ds.info.name, "--user", str(ds.user_ids[user]),
        "--item", top.external_id)
    assert top.item in [r.item for r in panel.rec.rows]           # not yet: nobody asked
    panel.users._clicked(panel.users.view.currentIndex())        # re-select the same user
    wait_list(qtbot, panel, lambda: top.item not in [r.item for r in panel.rec.rows])
    cli(capsys, "--db", db, "feedback", "undo", "--dataset", ds.info.name, "--user", str(ds.user_ids[user]))
    loaded = panel.run
    controller.window.actions.refresh.trigger()                  # F5
    wait_list(qtbot, panel, lambda: panel.live is not None and top.item in [r.item for r in panel.rec.rows]
              and not panel.live.feedback)
    assert panel.live.user == user and panel.run is loaded       # the run was not loaded again


def test_selection_follows_the_item_when_the_list_reranks(qtbot, explorer):
    panel = explorer
    panel.list.select_position(4)
    item = panel.list.selected_item()
    panel.slider.setValue(1.0)
    wait_list(qtbot, panel, lambda: panel.rec.tradeoff == 1.0)
    rows = [r.item for r in panel.rec.rows]
    if item in rows:
        assert panel.list.selected_item() == item and panel.list.current_row() == rows.index(item)
    else:
        assert panel.list.selected_item() in rows


def test_user_search_matches_ids_only_and_sorts_by_id_or_activity(qtbot, explorer):
    picker = explorer.users
    n = picker.model.rowCount()
    shown = lambda: [picker.proxy.index(r, 0).data(Qt.ItemDataRole.UserRole + 1)  # noqa: E731
                     for r in range(picker.proxy.rowCount())]
    counts = lambda: [picker.proxy.index(r, 0).data(Qt.ItemDataRole.UserRole + 2)  # noqa: E731
                      for r in range(picker.proxy.rowCount())]
    picker.search.setText("interactions")
    assert picker.proxy.rowCount() == 0                            # the count text is not searched
    some_count = str(max(counts() or [0]))
    picker.search.setText("")
    assert picker.proxy.rowCount() == n
    picker.search.setText(some_count)
    assert all(some_count in u for u in shown())
    picker.search.setText("")
    picker.sort.setCurrentIndex(picker.sort.findData("activity"))
    c = counts()
    assert c == sorted(c, reverse=True)
    picker.sort.setCurrentIndex(picker.sort.findData("id"))
    u = shown()
    key = lambda x: (0, int(x), "") if x.isdigit() else (1, 0, x)  # noqa: E731
    assert u == sorted(u, key=key)
    from engine.explore.user_search import id_order
    assert id_order(["10", "2", "b", "a", "1"]).tolist() == [4, 1, 0, 3, 2]   # 1, 2, 10, a, b
    assert id_order(["1", "2", "10"]) is None                                # already in order: no copy


def test_calibration_is_offered_and_exports_are_named(qtbot, explorer):
    panel = explorer
    panel.method.setCurrentIndex(panel.method.findData("calibration"))
    panel.slider.setValue(0.7992277992277992)
    wait_list(qtbot, panel, lambda: panel.rec.method == "calibration" and panel.rec.tradeoff > 0.5)
    assert panel.snapshot()["tradeoff"] == 0.7992 and panel.rec.tradeoff == 0.7992
    name = panel.export_name("list")
    ds = panel.run.dataset
    assert name.startswith(ds.info.name.replace(" ", "-")) and f"run{panel.run.info.id}" in name
    assert "calibration" in name and "t0.80" in name


def test_heatmap_labels_stay_apart_at_k25(qtbot, explorer):
    panel = explorer
    panel.k.setValue(25)
    wait_list(qtbot, panel, lambda: len(panel.rec.rows) == 25)
    hm = panel.heatmap
    from PySide6.QtGui import QFontMetrics
    font = hm.font()
    font.setPointSize(hm.tick_size)
    row_px = hm.plot.vb.height() / 25
    assert QFontMetrics(font).height() <= row_px * 1.05, (QFontMetrics(font).height(), row_px)
    labels = [t for _, t in hm.plot.getAxis("left")._tickLevels[0]]
    assert len(labels) == 25 and all(len(t) <= 12 for t in labels)
    below = hm.plot.getAxis("bottom")._tickLevels[0]
    assert len(below) <= 13 and QFontMetrics(font).horizontalAdvance("25") * len(below) < hm.plot.vb.width()


def test_empty_state_when_a_dataset_has_no_model(qtbot, controller, tmp_path):
    from engine.data.demo import create_demo_dataset
    panel = controller.explorer_panel
    qtbot.waitUntil(lambda: panel.rec is not None, timeout=60000)
    controller.state.store.call(create_demo_dataset, "Second", n_items=80, n_users=60)
    controller.state.refresh_datasets()
    qtbot.waitUntil(lambda: len(controller.state.datasets) == 2, timeout=20000)
    second = next(d for d in controller.state.datasets if d.name == "Second")
    controller.state.select_dataset(second)
    # at once: nothing of the previous dataset stays on screen
    assert panel.rec is None and panel.list.rowCount() == 0 and panel.users.model.rowCount() == 0
    qtbot.waitUntil(lambda: "No model for this dataset yet" in panel.empty.label.text(), timeout=20000)
    assert panel.stack.currentWidget() is panel.empty and not panel.empty.fit_button.isHidden()
    panel.give_feedback(0, "like")                                 # nothing to like: no effect, no crash
    with qtbot.waitSignal(controller.training_panel.job_finished, timeout=120000):
        qtbot.mouseClick(panel.empty.fit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.rec is not None and panel.run.dataset.info.name == "Second", timeout=120000)
    assert panel.stack.currentIndex() == 1


def test_an_import_gets_an_ease_baseline_in_the_background(qtbot, controller):
    from engine.ingest.importer import import_files
    panel = controller.explorer_panel
    qtbot.waitUntil(lambda: panel.rec is not None, timeout=60000)
    data = ROOT / "tests" / "data" / "ml-1m"
    summary = controller.state.store.call(import_files, [str(data / "ratings.dat"), str(data / "movies.dat")],
                           name="ml1m sample")
    controller._imported(summary)
    qtbot.waitUntil(lambda: "fitting the fast EASE baseline" in panel.empty.label.text()
                    or (panel.run is not None and panel.run.dataset.info.name == "ml1m sample"), timeout=60000)
    if panel.run is None:
        assert panel.empty.fit_button.isHidden()                # no second fit offered meanwhile
    qtbot.waitUntil(lambda: panel.rec is not None and panel.run.dataset.info.name == "ml1m sample", timeout=120000)
    assert panel.run.info.model == "ease"


def test_closing_cancels_running_workers(qtbot, controller):
    from llmrec_gui import workers
    panel = controller.explorer_panel
    qtbot.waitUntil(lambda: panel.rec is not None, timeout=60000)
    panel.start_frontier()
    job = panel._frontier_job
    assert workers.is_running(job)
    seen = []
    job.signals.finished.connect(lambda _r: seen.append("finished"))
    job.signals.cancelled.connect(lambda: seen.append("cancelled"))
    with qtbot.waitSignal(job.signals.done, timeout=120000):
        controller.window.close()
        assert job.cancel_token.cancelled and all(j.cancel_token.cancelled for j in workers.running())
    assert seen == ["cancelled"]       # the sweep stopped; nothing reported to a closing window


def test_screenshot_json_matches_cli_explore_json(tiny_db, tmp_path, capsys):
    from engine.store import open_store
    from engine.store import repository as repo
    from llmrec_gui.settings import make_settings
    store = open_store(str(tiny_db))
    with store.session() as s:
        run = repo.list_runs(s)[-1]
    store.close()
    pre = make_settings(str(tmp_path / "s.ini"))
    pre.setValue("explore/auto_frontier", "false")
    pre.sync()
    doc_cli = json.loads(cli(capsys, "--db", str(tiny_db), "explore", "--dataset", run.dataset_name, "--tradeoff",
                             "0.6", "--method", "dpp", "--space", "text", "--k", "12", "--json"))
    user = doc_cli["user"]
    png = tmp_path / "explore.png"
    args = ["--dataset", run.dataset_name, "--run", str(run.id), "--user", user, "--tradeoff", "0.6",
            "--method", "dpp", "--space", "text", "--rerank-space", "text", "--k", "12"]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "LLMREC_GUI_NO_DIALOGS": "1"}
    out = subprocess.run([sys.executable, "-m", "llmrec_gui", "--db", str(tiny_db), "--settings",
                          str(tmp_path / "s.ini"), "--screenshot", str(png), "--view", "explore", *args],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Signal source has been deleted" not in out.stderr
    shot = json.loads((tmp_path / "explore.png.json").read_text())
    for key in ("dataset", "run", "user", "method", "tradeoff", "k", "space", "rerank_space", "items", "metrics",
                "similarity"):
        assert shot[key] == doc_cli[key], key
    assert len(shot["items"]) == 12 and shot["method"] == "dpp" and shot["space"] == "text"
    assert any(r["promoted"] for r in shot["items"])
