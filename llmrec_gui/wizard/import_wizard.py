"""The import wizard: holds what the pages decide (files, detected format, mapping, name) and
runs the engine's dry run and import through workers."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWizard

from llmrec_gui.wizard.files_page import FilesPage
from llmrec_gui.wizard.import_page import ImportPage
from llmrec_gui.wizard.mapping_page import MappingPage
from llmrec_gui.wizard.preview_page import PreviewPage
from llmrec_gui.wizard.validate_page import ValidatePage


class ImportWizard(QWizard):
    imported = Signal(object)   # engine.ingest.ImportSummary

    def __init__(self, store, paths: list[str] | None = None, parent=None, settings=None):
        super().__init__(parent)
        self.store = store
        self.setWindowTitle("Import data")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.resize(900, 620)
        self.detected = None        # engine.ingest.DetectedFormat
        self.mapping = None         # engine.ingest.Mapping chosen on the mapping page
        self.on_unknown_item = "error"
        self.dataset_name = ""
        self.summary = None
        self.files_page = FilesPage(paths or [], settings)
        self.preview_page = PreviewPage()
        self.mapping_page = MappingPage()
        self.validate_page = ValidatePage()
        self.import_page = ImportPage()
        for page in (self.files_page, self.preview_page, self.mapping_page, self.validate_page, self.import_page):
            self.addPage(page)

    def import_kwargs(self) -> dict:
        """The arguments of engine.ingest.import_files the pages agreed on."""
        return dict(name=self.dataset_name, mapping=self.mapping, on_unknown_item=self.on_unknown_item,
                    detected=self.detected)

    def reject(self) -> None:
        self.validate_page.cancel()
        self.import_page.cancel()
        super().reject()
