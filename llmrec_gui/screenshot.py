"""The command line's screenshot mode (`--screenshot FILE`): wait until the view says it is complete,
grab the window to a PNG, write what it shows as FILE.json, and quit."""
from __future__ import annotations

import os

from llmrec_gui.startup_trace import mark


def take_screenshot(ctrl, path: str, view: str, app, timeout_s: float = 120.0) -> None:
    """When the view says it is ready (or after the timeout), grab the window to `path` and quit."""
    from PySide6.QtCore import QTimer
    ctrl.window.show_view(view)
    done = {"shot": False}

    def shoot():
        if done["shot"]:
            return
        done["shot"] = True
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        ok = ctrl.window.grab().save(path)
        print(f"llmrec-gui: {'wrote' if ok else 'could not write'} {path}")
        doc = view_record(ctrl, view)
        if doc is not None:
            import json
            with open(path + ".json", "w", encoding="utf-8") as f:
                json.dump(doc, f, indent=1)
            print(f"llmrec-gui: wrote {path}.json")
        app.exit(0 if ok else 1)

    when_complete(ctrl, view, lambda: QTimer.singleShot(100, shoot))   # 100 ms: the last repaints land
    QTimer.singleShot(int(timeout_s * 1000), shoot)


def when_complete(ctrl, view: str, then, poll_ms: int = 50) -> None:
    """Call `then()` once the database is open and `view` says it shows everything it will (or the
    database failed to open). Never waits on the TensorFlow device probe (not started for screenshots)."""
    from PySide6.QtCore import QTimer
    poll = QTimer(ctrl.window)

    def check():
        panel = ctrl.panel(view)
        if ctrl.boot_error is not None or (ctrl.booted and (panel is None or panel.is_complete())):
            poll.stop()
            mark(f"complete {view}")
            then()

    poll.timeout.connect(check)
    poll.start(poll_ms)


def view_record(ctrl, view: str) -> dict | None:
    """What `view` shows, as data (written beside a screenshot as FILE.json)."""
    doc = {"view": view, "database": getattr(ctrl.state.store, "url", None),
           "dataset": getattr(ctrl.state.dataset, "name", None), "run": getattr(ctrl.state.run, "id", None)}
    if view == "explore" and ctrl.explorer_panel.rec is not None:
        doc.update(ctrl.explorer_panel.snapshot())
    elif view == "explore":
        doc["empty"] = ctrl.explorer_panel.empty.label.text()
    return doc
