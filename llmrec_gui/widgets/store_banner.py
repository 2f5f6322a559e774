"""The message bar over the views when the database process stops (killed, crashed): says so, keeps
what the views show, and offers to start it again on the same database (Reopen)."""
from __future__ import annotations

import re
import signal

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton

TITLE = "The database process stopped: reopen?"


def exit_detail(message: str) -> str:
    """'exit code -9: killed by SIGKILL' from the engine's 'the database process stopped (exit code -9)'."""
    m = re.search(r"exit code (-?\d+)", message)
    if m is None:
        return message
    code = int(m.group(1))
    if code < 0:
        try:
            return f"exit code {code}: killed by {signal.Signals(-code).name}"
        except ValueError:
            pass
    return f"exit code {code}"


class StoreBanner(QFrame):
    reopen_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("store-banner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("#store-banner { background: #fdecea; border: 1px solid #e3a7a1; border-radius: 4px; }"
                           "#store-banner QLabel { color: #5f1d16; }")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.button = QPushButton("Reopen")
        self.button.setObjectName("store-reopen")
        self.button.setToolTip("Start the database process again on the same database and model folder; "
                               "the current view, dataset, run and user stay selected")
        self.button.setDefault(True)
        self.button.clicked.connect(self.reopen_requested.emit)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 6)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.message: str | None = None
        self.hide()

    def show_gone(self, message: str) -> None:
        self.message = message
        self.label.setText(f"<b>{TITLE}</b> ({exit_detail(message)}). Nothing can be read or saved until it "
                           "runs again; the views keep what they show.")
        self.button.setText("Reopen")
        self.button.setEnabled(True)
        self.show()

    def show_reopening(self) -> None:
        self.label.setText("<b>Reopening the database…</b>")
        self.button.setEnabled(False)
        self.show()

    def show_failed(self, error: str) -> None:
        from html import escape
        first = (error.strip().splitlines() or [""])[0]     # not SQLAlchemy's "Background on this error" link
        self.label.setText(f"<b>{TITLE}</b> Reopening failed: {escape(first)}")
        self.label.setToolTip(error)
        self.button.setText("Try again")
        self.button.setEnabled(True)
        self.show()

    def clear(self) -> None:
        self.message = None
        self.hide()

    def text(self) -> str:
        """What the bar says, as plain text (tests, screen readers)."""
        return re.sub(r"<[^>]+>", "", self.label.text())
