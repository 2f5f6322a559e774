"""Render the README's screenshots of free-text search and a plain-words dislike in Explore.

    QT_QPA_PLATFORM=offscreen .venv/bin/python resources/screenshots/render_language.py --db DB \
        --query "space adventure with robots" --say "I don't like Inception, can you suggest others?" [--user ID]

DB needs a run and an encoded catalogue (`llmrec --db DB encode --dataset NAME`)."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["LLMREC_GUI_NO_DIALOGS"] = "1"


def wait(app, cond, timeout=300.0):
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise SystemExit("timed out")
        app.processEvents()
        time.sleep(0.02)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--query", required=True)
    ap.add_argument("--say", required=True)
    ap.add_argument("--user", help="external user id (default: the explorer's)")
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    args = ap.parse_args()
    from PySide6.QtWidgets import QApplication

    from llmrec_gui.app import Controller, install_message_filter, parse_args
    from llmrec_gui.settings import make_settings
    install_message_filter()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    ini = os.path.join(tempfile.mkdtemp(), "gui.ini")
    pre = make_settings(ini)
    pre.setValue("explore/auto_frontier", "false")
    pre.setValue("train/auto_probe", "false")
    pre.sync()
    ctrl = Controller(parse_args(["--db", args.db, "--settings", ini, "--no-demo"]))
    ctrl.window.resize(1280, 860)
    ctrl.window.show()
    ctrl.start()
    panel = ctrl.explorer_panel
    ctrl.window.show_view("explore")
    wait(app, lambda: panel.rec is not None)
    if args.user:
        import numpy as np
        ctrl.state.select_user(int(np.flatnonzero(panel.run.dataset.user_ids == args.user)[0]))
        wait(app, lambda: panel.live is not None and panel.live.user == ctrl.state.user and panel.rec is not None)
    from engine.explore.similarity import has_semantic
    wait(app, lambda: has_semantic(panel.run.dataset))         # the catalogue's vectors are attached
    shown = []
    panel.search.results_shown.connect(shown.append)
    panel.search.line.setText(args.query)
    panel.search.search()
    wait(app, lambda: shown)
    for _ in range(20):
        app.processEvents()
    print("wrote", ctrl.window.grab().save(os.path.join(args.out, "explore-search.png")))
    panel.search.hits.setVisible(False)
    line = panel.plain_words
    line.line.setText(args.say)
    line.read()
    wait(app, lambda: line.apply_button.isEnabled())
    before = [r.item for r in panel.rec.rows]
    line.apply()
    wait(app, lambda: [r.item for r in panel.rec.rows] != before)
    for _ in range(20):
        app.processEvents()
    print("wrote", ctrl.window.grab().save(os.path.join(args.out, "explore-plain-words.png")))
    line.undo()                      # leave the database as it was
    wait(app, lambda: [r.item for r in panel.rec.rows] == before)
    ctrl.shutdown()


if __name__ == "__main__":
    main()
