"""Page 4: a dry run of the whole import in a worker. Errors show with file and line; nothing is
imported. The next page is reachable only when the dry run passed."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWizardPage

from llmrec_gui import workers
from llmrec_gui.wizard.import_page import summary_html


class ValidatePage(QWizardPage):
    validated = Signal(bool)

    def __init__(self):
        super().__init__()
        self.setTitle("Validation")
        self.setSubTitle("Every row is checked; nothing is written yet.")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.result = QLabel()
        self.result.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(self.bar)
        lay.addWidget(self.result, 1)
        self.ok = False
        self.error: str | None = None
        self._job = None

    def initializePage(self) -> None:
        from engine.ingest import import_files
        wiz = self.wizard()
        self.ok, self.error = False, None
        self.completeChanged.emit()
        self.result.setText("Checking…")
        self.result.setStyleSheet("")
        self._job = workers.run_async(workers.on_store(wiz.store), import_files, wiz.detected.paths, dry_run=True, engine_style=True,
                                      **wiz.import_kwargs(), on_progress=self._progress, on_done=self._done,
                                      on_error=self._failed)

    def _progress(self, p) -> None:
        self.bar.setValue(int(1000 * getattr(p, "fraction", 0.0)))

    def _done(self, summary) -> None:
        self.ok = True
        self.bar.setValue(1000)
        self.result.setText("<b>The files are valid.</b> Importing will create:<br>" + summary_html(summary))
        self.completeChanged.emit()
        self.validated.emit(True)

    def _failed(self, msg: str) -> None:
        self.error = msg
        self.result.setStyleSheet("color: #b00020")
        self.result.setText(f"<b>Cannot import:</b> {msg}<br><br>Nothing was imported. Go back to change the "
                            "mapping, or fix the file.")
        self.validated.emit(False)

    def isComplete(self) -> bool:
        return self.ok

    def cancel(self) -> None:
        if self._job is not None:
            self._job.cancel()

    def cleanupPage(self) -> None:
        self.cancel()
