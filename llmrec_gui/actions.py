"""The app's actions (menus and keyboard shortcuts), created once and shared by the window."""
from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence


class Actions:
    def __init__(self, parent):
        def act(text: str, shortcut=None, tip: str = "") -> QAction:
            a = QAction(text, parent)
            if shortcut is not None:
                a.setShortcut(QKeySequence(shortcut))
            if tip:
                a.setStatusTip(tip)
                a.setToolTip(tip)
            return a

        self.import_data = act("&Import data…", "Ctrl+I", "Import ratings or interactions from files")
        self.open_db = act("&Open database…", QKeySequence.StandardKey.Open, "Open another llmrec database")
        self.refresh = act("&Refresh", QKeySequence.StandardKey.Refresh, "Re-read datasets and runs")
        self.quit = act("&Quit", QKeySequence.StandardKey.Quit)
        self.view_datasets = act("&Datasets", "Ctrl+1")
        self.view_train = act("&Train", "Ctrl+2")
        self.view_explore = act("&Explore", "Ctrl+3")
        self.start_training = act("&Start training", "Ctrl+T", "Train the selected model")
        self.cancel_job = act("&Cancel job", "Ctrl+.", "Cancel the running job")
        self.export_list = act("Export &list (CSV)…", "Ctrl+E", "Save the current recommendation list")
        self.export_metrics = act("Export &metrics (JSON)…", "Ctrl+Shift+M")
        self.export_heatmap = act("Export &heatmap (PNG/SVG)…", "Ctrl+Shift+H")
        self.export_frontier = act("Export &frontier plot (PNG/SVG)…", "Ctrl+Shift+F")
        self.like = act("&Like selected item", "L", "Like the selected recommendation")
        self.dislike = act("&Dislike selected item", "D", "Dislike the selected recommendation")
        self.not_interested = act("&Not interested in selected item", "N",
                                  "Hide the selected recommendation; change nothing else")
        self.undo = act("&Undo feedback", QKeySequence.StandardKey.Undo, "Undo the latest like / dislike")
        self.undo.setEnabled(False)
        self.reprobe = act("Re-detect &devices", None, "Ask TensorFlow again which CPU/GPU it sees")
        self.guide = act("&Quick guide", QKeySequence.StandardKey.HelpContents,
                         "What the views, the slider, the heatmap and the frontier mean; every shortcut")
        self.about = act("&About llmrec")

    def build_menus(self, menubar) -> None:
        f = menubar.addMenu("&File")
        for a in (self.import_data, self.open_db, self.refresh):
            f.addAction(a)
        f.addSeparator()
        for a in (self.export_list, self.export_metrics, self.export_heatmap, self.export_frontier):
            f.addAction(a)
        f.addSeparator()
        f.addAction(self.quit)
        e = menubar.addMenu("&Edit")
        e.addAction(self.undo)
        e.addSeparator()
        for a in (self.like, self.dislike, self.not_interested):
            e.addAction(a)
        v = menubar.addMenu("&View")
        for a in (self.view_datasets, self.view_train, self.view_explore):
            v.addAction(a)
        r = menubar.addMenu("&Run")
        for a in (self.start_training, self.cancel_job, self.reprobe):
            r.addAction(a)
        h = menubar.addMenu("&Help")
        h.addAction(self.guide)
        h.addSeparator()
        h.addAction(self.about)
