"""The Explore view's run picker and its "a new run is ready: switch?" offer (issue 22, item 2): the run
on screen is the one the user chose; a run that finishes meanwhile is offered, never switched to."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget


def run_label(info) -> str:
    """'LSTM two-tower · run 7 · 12-07 21:10 · NDCG@10 0.1234' (what tells the runs apart)."""
    from engine.models.registry import display_name
    parts = [display_name(info.model), f"run {info.id}"]
    if info.created_at is not None:
        parts.append(info.created_at.strftime("%m-%d %H:%M"))
    ndcg = (info.metrics or {}).get("ndcg@10")
    parts.append(f"NDCG@10 {ndcg:.4f}" if ndcg is not None else "no holdout")
    return " · ".join(parts)


class RunPicker(QWidget):
    """'Run: [combo]' plus, when a new run is ready, 'New: … [Switch] [✕]'. Emits `run_chosen(RunInfo)`
    when the user picks a run or accepts the offer; `set_runs` / `set_current` never emit."""
    run_chosen = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.runs: list = []
        self.offered = None
        self.combo = QComboBox()
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.combo.setToolTip("The run shown in Explore: it stays until you choose another")
        self.combo.activated.connect(self._picked)
        self.offer = QLabel()
        self.offer.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.switch = QPushButton("Switch to it")
        self.switch.clicked.connect(self._accept)
        self.dismiss = QPushButton("Keep this run")
        self.dismiss.clicked.connect(self.clear_offer)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(QLabel("Run:"))
        lay.addWidget(self.combo)
        lay.addSpacing(12)
        lay.addWidget(self.offer)
        lay.addWidget(self.switch)
        lay.addWidget(self.dismiss)
        lay.addStretch(1)
        self.clear_offer()

    def set_runs(self, runs: list) -> None:
        current = self.current_id()
        self.runs = list(runs)
        self.combo.blockSignals(True)
        self.combo.clear()
        for r in reversed(self.runs):          # the newest first
            self.combo.addItem(run_label(r), r.id)
        self.combo.blockSignals(False)
        self.set_current(current)
        if self.offered is not None and not any(r.id == self.offered.id for r in self.runs):
            self.clear_offer()

    def set_current(self, run_id: int | None) -> None:
        i = self.combo.findData(run_id) if run_id is not None else -1
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(i)
        self.combo.blockSignals(False)
        if self.offered is not None and self.offered.id == run_id:
            self.clear_offer()

    def current_id(self) -> int | None:
        data = self.combo.currentData()
        return int(data) if data is not None else None

    def offer_run(self, info) -> None:
        """A new run finished while another is on screen: say so, with Switch and Keep."""
        self.offered = info
        self.offer.setText(f"<b>A new run is ready:</b> {run_label(info)}")
        for w in (self.offer, self.switch, self.dismiss):
            w.setVisible(True)

    def clear_offer(self) -> None:
        self.offered = None
        for w in (self.offer, self.switch, self.dismiss):
            w.setVisible(False)

    def _picked(self, index: int) -> None:
        run_id = self.combo.itemData(index)
        info = next((r for r in self.runs if r.id == run_id), None)
        if info is not None:
            self.run_chosen.emit(info)

    def _accept(self) -> None:
        info = self.offered
        self.clear_offer()
        if info is not None:
            self.run_chosen.emit(info)
