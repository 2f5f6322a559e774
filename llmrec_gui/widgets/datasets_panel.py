"""The Datasets view: the datasets in the database (counts) and the selected one's figures."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from engine.data.stats import compute_stats
from llmrec_gui import workers
from llmrec_gui.widgets.dataset_list import DatasetList
from llmrec_gui.widgets.dataset_plots import DatasetPlots


class DatasetsPanel(QWidget):
    ready = Signal()              # the selected dataset's figures are on screen
    import_requested = Signal()

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self.table = DatasetList()
        self.plots = DatasetPlots()
        self.summary = QLabel("No dataset selected.")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        import_btn = QPushButton("Import data…")
        import_btn.setToolTip("Import ratings/interactions from files (Ctrl+I), or drop files on the window")
        import_btn.clicked.connect(self.import_requested)
        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("<b>Datasets</b>"))
        row.addStretch(1)
        row.addWidget(import_btn)
        tl.addLayout(row)
        tl.addWidget(self.table)
        tl.addWidget(self.summary)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(self.plots)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 3)
        split.setSizes([200, 600])
        lay = QVBoxLayout(self)
        lay.addWidget(split)
        self._job = None
        self.stats = None
        self.table.dataset_selected.connect(state.select_dataset)
        state.datasets_changed.connect(self.table.set_datasets)
        state.dataset_changed.connect(self._on_dataset)

    def _on_dataset(self, info) -> None:
        self.table.select_id(None if info is None else info.id)
        if info is None:
            self.summary.setText("No dataset yet: import one (Ctrl+I).")
            return
        self.summary.setText(f"Loading figures of {info.name}…")
        if self._job is not None:
            self._job.cancel()
        # engine_style: the cancel above reaches the counting stream in the store process (a 25M-row
        # stream for a dataset no longer selected would hold up the next one's), and its progress shows
        self._job = workers.run_async(workers.on_store(self.state.store), compute_stats, info.id, engine_style=True,
                                      on_progress=lambda p, i=info: self._counting(i, p),
                                      on_done=self._show, on_error=self._failed)

    def _counting(self, info, p) -> None:
        if self.state.dataset is not None and self.state.dataset.id == info.id:
            self.summary.setText(f"Loading figures of {info.name}: {p.stage} {p.done:,} of {p.total:,} "
                                 "(once per dataset)…")

    def _show(self, st) -> None:
        if self.state.dataset is None or st.dataset_id != self.state.dataset.id:
            return
        self.stats = st
        text = (f"<b>{st.name}</b>: {st.n_users:,} users, {st.n_items:,} items, "
                f"{st.n_interactions:,} interactions ({st.n_positives:,} positives)")
        if st.split:
            text += ("<br>Evaluation split (time-aware holdout): " +
                     ", ".join(f"{k}: {v:,}" for k, v in st.split.items() if isinstance(v, int)))
            self.summary.setToolTip(st.split.get("rule", ""))
        self.summary.setText(text)
        self.plots.show_stats(st)
        self.ready.emit()

    def is_complete(self) -> bool:
        return self.stats is not None

    def _failed(self, msg: str) -> None:
        self.summary.setText(f"Could not read the dataset: {msg}")
        self.state.error.emit(msg)
