"""The selected user's history, most recent first, with ratings and dates."""
from __future__ import annotations

from datetime import datetime, timezone

from PySide6.QtWidgets import QHeaderView, QTableWidgetItem

from llmrec_gui.widgets.read_only_table import ReadOnlyTable


class HistoryView(ReadOnlyTable):
    def __init__(self, parent=None):
        super().__init__(("Date", "Title", "Rating"), parent, single_selection=False)
        self.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)

    def set_history(self, titles: list[str], ratings, times, no_time: int) -> None:
        """Rows arrive oldest first (time order); shown newest first."""
        n = len(titles)
        self.setRowCount(n)
        for row in range(n):
            i = n - 1 - row
            t = int(times[i])
            when = "" if t == no_time else datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%d")
            r = ratings[i]
            rating = "" if r != r else f"{float(r):g}"  # NaN: implicit data
            for col, text in enumerate((when, titles[i], rating)):
                self.setItem(row, col, QTableWidgetItem(text))
        self.resizeColumnToContents(0)
        self.resizeColumnToContents(2)
