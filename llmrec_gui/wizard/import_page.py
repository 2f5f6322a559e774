"""Page 5: the import in a worker, with a progress bar, Cancel, and a summary."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QVBoxLayout, QWizardPage

from llmrec_gui import workers


def summary_html(s) -> str:
    scale = ("implicit (every interaction a positive)" if s.rating_min is None else
             f"{s.rating_min:g}–{s.rating_max:g}, positives ≥ {s.positive_threshold:g}")
    lines = [f"<b>{s.name}</b> ({s.format}): {s.n_users:,} users, {s.n_items:,} items, "
             f"{s.n_interactions:,} interactions from {s.rows_read:,} rows",
             f"Ratings: {scale}", f"Duplicates collapsed: {s.duplicates:,}"]
    if s.skipped:
        lines.append("Skipped rows: " + ", ".join(f"{reason}: {n:,}" for reason, n in s.skipped.items()))
    else:
        lines.append("Skipped rows: none")
    if not s.dry_run:
        lines.append(f"Took {s.seconds:.1f} s")
    return "<br>".join(lines)


class ImportPage(QWizardPage):
    finished = Signal(bool)

    def __init__(self):
        super().__init__()
        self.setTitle("Import")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.stage = QLabel()
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.cancel_button = QPushButton("Cancel import")
        self.cancel_button.clicked.connect(self.cancel)
        lay = QVBoxLayout(self)
        lay.addWidget(self.stage)
        lay.addWidget(self.bar)
        lay.addWidget(self.cancel_button)
        lay.addWidget(self.result, 1)
        self.done = False
        self.summary = None
        self._job = None

    def initializePage(self) -> None:
        from engine.ingest import import_files
        wiz = self.wizard()
        self.done = False
        self.cancel_button.setEnabled(True)
        self.result.clear()
        self._job = workers.run_async(workers.on_store(wiz.store), import_files, wiz.detected.paths, engine_style=True,
                                      **wiz.import_kwargs(), on_progress=self._progress, on_done=self._done,
                                      on_error=self._failed)
        self._job.signals.cancelled.connect(self._cancelled)

    def _progress(self, p) -> None:
        self.stage.setText(f"{p.stage}: {p.rows:,} rows")
        self.bar.setValue(int(1000 * p.fraction))

    def _done(self, summary) -> None:
        self.summary = summary
        self.wizard().summary = summary
        self.bar.setValue(1000)
        self.stage.setText("Done.")
        self.result.setText(summary_html(summary))
        self._finish(True)
        self.wizard().imported.emit(summary)

    def _failed(self, msg: str) -> None:
        self.result.setStyleSheet("color: #b00020")
        self.result.setText(f"<b>The import failed:</b> {msg}<br>Nothing was imported.")
        self._finish(False)

    def _cancelled(self) -> None:
        self.result.setText("Cancelled: nothing was imported.")
        self._finish(False)

    def _finish(self, ok: bool) -> None:
        self.done = True
        self.cancel_button.setEnabled(False)
        self.completeChanged.emit()
        self.finished.emit(ok)

    def cancel(self) -> None:
        if self._job is not None and not self.done:
            self._job.cancel()

    def isComplete(self) -> bool:
        return self.done
