"""The user's feedback history: what was liked, disliked or marked not interested, and when. A plain-words
sentence is one row (what was said) that expands to the entries it made; each row can be undone, a
sentence as a whole. It shows the engine's FeedbackEntry list (grouped by engine.explore.feedback
.group_sentences) and emits undo requests."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QToolButton, QTreeWidget, QTreeWidgetItem

KIND_LABEL = {"like": "Liked", "dislike": "Disliked", "not_interested": "Not interested", "avoid": "Hidden",
              "weight": "Weight"}


def entry_text(e, titles) -> str:
    """An entry's object: the item's title, or its category ("genre=Comedy +1")."""
    if e.item >= 0:
        return titles[e.item]
    from engine.explore.categories import category_label
    if e.category.startswith("near="):
        return f"items near {titles[int(e.category[5:])]} {e.weight:+g}"
    return f"{category_label(e.category)}" + (f" {e.weight:+g}" if e.kind == "weight" else "")


class FeedbackHistory(QTreeWidget):
    undo_requested = Signal(int)     # feedback id (of a sentence: any of its entries; the whole sentence goes)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setColumnCount(4)
        self.setHeaderLabels(["Feedback", "Title", "When", ""])
        self.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.headerItem().setToolTip(2, "When the feedback was given (UTC)")
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setWordWrap(False)             # one line per entry; the full title is in the tooltip
        self.setUniformRowHeights(True)
        self.entries: list = []

    def set_entries(self, entries, titles) -> None:
        """entries: engine FeedbackEntry list, oldest first; shown newest first, a sentence as one row."""
        from engine.explore.feedback import group_sentences
        self.entries = list(entries)
        self.clear()
        for group in reversed(group_sentences(self.entries)):
            first = group[0]
            when = first.created_at[5:16].replace("T", " ")          # "12-02 06:07"
            if first.sentence_id is None:
                label, text = KIND_LABEL.get(first.kind, first.kind), entry_text(first, titles)
                tip = f"{label} “{text}” on {first.created_at.replace('T', ' ')} UTC"
            else:
                label, text = "Said", f"“{first.sentence}”"
                tip = (f"You said {text} on {first.created_at.replace('T', ' ')} UTC: {len(group)} "
                       f"{'entry' if len(group) == 1 else 'entries'}, undone together (expand to see them)")
            row = QTreeWidgetItem(self, [label, text, when, ""])
            for col in range(3):
                row.setToolTip(col, tip)
            if first.sentence_id is not None:
                for e in group:
                    child = QTreeWidgetItem(row, [KIND_LABEL.get(e.kind, e.kind), entry_text(e, titles), "", ""])
                    child.setToolTip(1, child.text(1))
            b = QToolButton()
            b.setText("Undo")
            b.setAutoRaise(True)
            b.setObjectName(f"undo-{first.id}")
            b.setToolTip("Undo this feedback: the list is re-scored without it" if first.sentence_id is None else
                         "Undo the whole sentence: every entry it made goes, the list is re-scored")
            b.clicked.connect(lambda _=False, fid=first.id: self.undo_requested.emit(fid))
            self.setItemWidget(row, 3, b)
        for col in (0, 2, 3):
            self.resizeColumnToContents(col)
