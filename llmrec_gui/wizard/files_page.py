"""Page 1: choose the file(s) (or drop them), the format, and the dataset's name."""
from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget,
                               QPushButton, QVBoxLayout, QWizardPage)

FORMAT_HELP = ("auto: recognise MovieLens (100K, 1M/10M .dat, latest .csv), MovieTweetings, or any delimited "
               "text file (CSV, TSV, ';', '|', '::'), optionally gzip'ed, with an item file beside it.")


class FilesPage(QWizardPage):
    def __init__(self, paths: list[str]):
        super().__init__()
        self.setTitle("Choose the files")
        self.setSubTitle("The interactions file first (user, item, rating, time); then, optionally, an item file "
                         "(id, title, genres, description). You can also drop files here.")
        self.setAcceptDrops(True)
        self.files = QListWidget()
        for p in paths:
            self.files.addItem(p)
        add = QPushButton("Add files…")
        add.clicked.connect(self._add)
        remove = QPushButton("Remove")
        remove.clicked.connect(lambda: [self.files.takeItem(self.files.row(i)) for i in self.files.selectedItems()]
                               and self.completeChanged.emit())
        self.format = QComboBox()
        from engine.ingest.formats import FORMATS
        for f in FORMATS:
            self.format.addItem(f, f)
        self.format.setToolTip(FORMAT_HELP)
        self.name = QLineEdit()
        self.name.setPlaceholderText("(from the file name)")
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020")
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        form = QFormLayout()
        form.addRow("Format:", self.format)
        form.addRow("Dataset name:", self.name)
        lay = QVBoxLayout(self)
        lay.addWidget(self.files)
        lay.addLayout(buttons)
        lay.addLayout(form)
        lay.addWidget(QLabel(f"<small>{FORMAT_HELP}</small>", wordWrap=True))
        lay.addWidget(self.error)

    def paths(self) -> list[str]:
        return [self.files.item(i).text() for i in range(self.files.count())]

    def add_paths(self, paths: list[str]) -> None:
        for p in paths:
            self.files.addItem(p)
        self.completeChanged.emit()

    def _add(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Choose data files", "",
                                                "Data files (*.csv *.tsv *.dat *.data *.txt *.gz *.item *.zip);;All files (*)")
        self.add_paths(paths)

    def dragEnterEvent(self, event):
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event):
        self.add_paths([u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()])

    def isComplete(self) -> bool:
        return self.files.count() > 0

    def validatePage(self) -> bool:
        """Sniff the files (a small read of their first lines) and recognise the format."""
        from engine.errors import EngineError
        from engine.ingest import detect_format
        from engine.ingest.importer import default_name
        wiz = self.wizard()
        try:
            wiz.detected = detect_format(self.paths(), self.format.currentData())
        except EngineError as exc:
            self.error.setText(str(exc))
            return False
        self.error.clear()
        wiz.dataset_name = self.name.text().strip() or default_name(wiz.detected)
        return True
