"""What a view shows when it has nothing to show yet: a sentence and the actions that fix it
(never the previous dataset's data)."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


class EmptyState(QWidget):
    fit_requested = Signal()
    train_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.label = QLabel()
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setWordWrap(True)
        self.label.setStyleSheet("font-size: 15px; color: #444;")
        self.fit_button = QPushButton("Fit baselines")
        self.fit_button.setToolTip("Fit EASE, ItemKNN and MostPopular (seconds, no TensorFlow)")
        self.train_button = QPushButton("Train…")
        self.train_button.setToolTip("Open the Train view to train the LSTM two-tower model")
        self.fit_button.clicked.connect(self.fit_requested.emit)
        self.train_button.clicked.connect(self.train_requested.emit)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.fit_button)
        buttons.addWidget(self.train_button)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addStretch(1)
        lay.addWidget(self.label)
        lay.addLayout(buttons)
        lay.addStretch(2)

    def show_message(self, text: str, actions: bool) -> None:
        self.label.setText(text)
        self.fit_button.setVisible(actions)
        self.train_button.setVisible(actions)
