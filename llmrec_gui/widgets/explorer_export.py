"""What the Explore view shows, as data and files: the list record the CLI's `explore --json` writes,
a file name that says what was exported, and the exports themselves."""
from __future__ import annotations

import re

from PySide6.QtWidgets import QFileDialog

FILTERS = {"list": "CSV (*.csv)", "metrics": "JSON (*.json)", "heatmap": "PNG (*.png);;SVG (*.svg)",
           "frontier": "PNG (*.png);;SVG (*.svg)"}


def snapshot(panel) -> dict | None:
    """The list on screen (engine.explore.live_list.list_record)."""
    if panel.rec is None or panel.run is None:
        return None
    from engine.explore.live_list import list_record
    ds = panel.run.dataset
    return list_record(panel.rec, dataset=ds.info.name, run=panel.run.info.id,
                       user=str(ds.user_ids[panel.live.user]), k=panel.k.value(), space=panel.rec_space,
                       similarity=panel.rec_similarity)


def export_name(panel, what: str) -> str:
    """Dataset, run, user, method and trade-off in the file's name."""
    if panel.rec is None:
        return what
    ds = panel.run.dataset
    parts = [ds.info.name, f"run{panel.run.info.id}", f"user{ds.user_ids[panel.live.user]}", panel.rec.method,
             f"t{panel.rec.tradeoff:.2f}", what]
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", "_".join(str(p) for p in parts))


def export(panel, what: str, path: str | None = None) -> str | None:
    """Write `what` (list, metrics, heatmap, frontier) to `path` (asked for when None)."""
    if panel.rec is None:
        return None
    if path is None:
        ext = {"list": ".csv", "metrics": ".json"}.get(what, ".png")
        path, _ = QFileDialog.getSaveFileName(panel, f"Export {what}", export_name(panel, what) + ext, FILTERS[what])
        if not path:
            return None
    from llmrec_gui import export as files
    if what == "list":
        files.write_list_csv(path, snapshot(panel), panel.rec)
    elif what == "metrics":
        files.write_metrics_json(path, snapshot(panel))
    elif what == "heatmap":
        panel.heatmap.export(path)
    else:
        panel.frontier.export(path)
    panel.state.message.emit(f"Saved {path}")
    return path
