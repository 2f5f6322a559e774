"""Page 1: choose the file(s) (or drop them), the format, and the dataset's name."""
from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWizardPage,
)

FORMAT_HELP = ("auto: recognise MovieLens (100K, 1M/10M .dat, latest .csv), MovieTweetings, or any delimited "
               "text file (CSV, TSV, ';', '|', '::'), optionally gzip'ed, with an item file beside it.")


LAST_FOLDER = "import/last_folder"


class FilesPage(QWizardPage):
    def __init__(self, paths: list[str], settings=None):
        super().__init__()
        self.settings = settings
        self.setTitle("Choose the files")
        self.setSubTitle("The interactions file first (user, item, rating, time); then, optionally, an item file "
                         "(id, title, genres, description). Or a dataset's folder (e.g. ml-100k). You can also "
                         "drop files or folders here.")
        self.setAcceptDrops(True)
        self.files = QListWidget()
        for p in paths:
            self.files.addItem(p)
        add = QPushButton("Add files…")
        add.clicked.connect(self._add)
        add_folder = QPushButton("Add folder…")
        add_folder.setToolTip("A dataset's folder: the files llmrec recognises in it (u.data, ratings.dat, "
                              "ratings.csv, their item files) are used")
        add_folder.clicked.connect(self._add_folder)
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
        buttons.addWidget(add_folder)
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

    def last_folder(self) -> str:
        return str(self.settings.value(LAST_FOLDER, "")) if self.settings is not None else ""

    def _remember(self, paths: list[str]) -> None:
        import os
        if paths and self.settings is not None:
            p = paths[0]
            self.settings.setValue(LAST_FOLDER, p if os.path.isdir(p) else os.path.dirname(p))

    def ask_files(self, start: str) -> list[str]:
        paths, _ = QFileDialog.getOpenFileNames(self, "Choose data files", start,
                                                "Data files (*.csv *.tsv *.dat *.data *.txt *.gz *.item *.zip);;"
                                                "All files (*)")
        return paths

    def ask_folder(self, start: str) -> str:
        return QFileDialog.getExistingDirectory(self, "Choose a dataset folder", start)

    def _add(self) -> None:
        paths = self.ask_files(self.last_folder())
        self._remember(paths)
        self.add_paths(paths)

    def _add_folder(self) -> None:
        folder = self.ask_folder(self.last_folder())
        if folder:
            self._remember([folder])
            self.add_paths([folder])

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
