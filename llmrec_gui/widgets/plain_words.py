"""Feedback in plain words, under the list in Explore: type "I don't like Inception, less action", see what
was understood (one line per action, and any question such as "which winery?"), then Apply (or Undo
afterwards). Parsing and applying are the engine's (engine.language.plain_words); the sentence is stored as
one action: Undo here, Ctrl+Z and the history's Undo take back all its entries at once."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from llmrec_gui import workers


def understand_words(dataset, text: str):
    """Worker thread in the app: the sentence's Understanding and its description lines (numpy
    encoder, no TensorFlow, no database). Items by meaning need the catalogue vectors the search box
    attaches; titles and genres work without them."""
    from engine.errors import EngineError
    from engine.language.plain_words import understand
    encoder = None
    try:
        from engine.encoder.catalogue import encoder_by_name
        from engine.explore.similarity import semantic_encoder_name
        encoder = encoder_by_name(semantic_encoder_name(dataset))     # the catalogue vectors' encoder
    except EngineError:
        pass
    u = understand(text, dataset, encoder=encoder)
    return u, u.describe(dataset)


class PlainWordsLine(QWidget):
    feedback_changed = Signal(int)    # the user whose stored feedback changed (re-read it)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.store = self.dataset = None
        self.user: int | None = None
        self.pool, self.shown = [], []
        self.understanding = None
        self.applied: list[int] = []
        self.line = QLineEdit()
        self.line.setPlaceholderText("Tell it in plain words: “I don't like Inception”, “no horror”, "
                                     "“something lighter”, “less popular”  (Enter)")
        self.apply_button = QPushButton("Apply")
        self.undo_button = QPushButton("Undo")
        self.apply_button.setEnabled(False)
        self.undo_button.setEnabled(False)
        self.understood = QLabel("")
        self.understood.setWordWrap(True)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.line, 1)
        row.addWidget(self.apply_button)
        row.addWidget(self.undo_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(row)
        lay.addWidget(self.understood)
        self.line.returnPressed.connect(self.read)
        self.apply_button.clicked.connect(self.apply)
        self.undo_button.clicked.connect(self.undo)

    def set_context(self, store, dataset, user, pool_items, shown_items) -> None:
        """What the sentence acts on: the user, their candidate pool and the list on screen."""
        if user != self.user or dataset is not self.dataset:
            self.understanding, self.applied = None, []
            self.apply_button.setEnabled(False)
            self.undo_button.setEnabled(False)
            self.understood.setText("")
        self.store, self.dataset, self.user = store, dataset, user
        self.pool, self.shown = [int(i) for i in pool_items], [int(i) for i in shown_items]

    def read(self) -> None:
        text = self.line.text().strip()
        if not text or self.dataset is None:
            return
        self.understood.setText("Reading…")
        workers.run_async(workers.here(), understand_words, self.dataset, text,
                          on_done=self._understood, on_error=self.understood.setText)

    def _understood(self, result) -> None:
        u, lines = result
        self.understanding = u
        from html import escape
        head = ("<b>Understood</b> (Apply to use it):" if u.actions else
                "<b>A question first</b>:" if u.questions else
                "<b>Nothing understood</b>; try “I don't like …”, “no horror” or “less action, more comedy”.")
        self.understood.setText("<br>".join([head] + [f"• {escape(line)}" for line in lines]))
        self.apply_button.setEnabled(bool(u.actions))

    def apply(self) -> None:
        if self.understanding is None or self.user is None:
            return
        from engine.language.plain_words import entries
        made = entries(self.understanding, self.dataset, self.shown)
        self.apply_button.setEnabled(False)
        if not made:
            self.understood.setText(self.understood.text() + "<br>Nothing in your list matched; nothing changed.")
            return
        user = self.user
        from engine.language.plain_words import record
        workers.run_async(workers.on_store(self.store), record, self.dataset.info.id, user,
                          self.understanding.text, made,
                          on_done=lambda ids: self._applied(user, ids), on_error=self.understood.setText)

    def _applied(self, user: int, ids: list) -> None:
        self.applied = list(ids)
        self.undo_button.setEnabled(True)
        n = len(ids)
        self.understood.setText(self.understood.text().replace(
            "(Apply to use it)", f"and applied as one action ({n} feedback {'entry' if n == 1 else 'entries'}; "
                                 f"Undo or Ctrl+Z takes the whole sentence back)"))
        self.feedback_changed.emit(user)

    def undo(self) -> None:
        if not self.applied or self.user is None:
            return
        ids, user = self.applied, self.user
        self.applied = []
        self.undo_button.setEnabled(False)
        from engine.language.plain_words import undo
        workers.run_async(workers.on_store(self.store), undo, ids, on_done=lambda _r: self._undone(user),
                          on_error=self.understood.setText)

    def _undone(self, user: int) -> None:
        self.understood.setText(self.understood.text() + "<br>Undone.")
        self.feedback_changed.emit(user)
