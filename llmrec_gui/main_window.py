"""The main window: layout only (tabs Datasets / Train / Explore / Simulate, menus, status bar).
The panels are built after the window is on screen, so it appears fast."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMainWindow, QTabWidget, QVBoxLayout, QWidget

from llmrec_gui.actions import Actions
from llmrec_gui.widgets.store_banner import StoreBanner

VIEWS = ("datasets", "train", "explore", "simulate")


class MainWindow(QMainWindow):
    def __init__(self):
        super().__init__()
        self.setWindowTitle("llmrec — recommender explorer")
        self.setAcceptDrops(True)
        self.actions = Actions(self)
        self.actions.build_menus(self.menuBar())
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for name in VIEWS:
            placeholder = QLabel("Loading…")
            placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.tabs.addTab(placeholder, name.capitalize())
        self.store_banner = StoreBanner()      # "The database process stopped: reopen?" (hidden until then)
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.store_banner)
        lay.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.db_label = QLabel("Database: opening…")
        self.device_label = QLabel("Device: not probed yet")
        self.statusBar().addPermanentWidget(self.db_label)
        self.statusBar().addPermanentWidget(self.device_label)
        self.actions.view_datasets.triggered.connect(lambda: self.show_view("datasets"))
        self.actions.view_train.triggered.connect(lambda: self.show_view("train"))
        self.actions.view_explore.triggered.connect(lambda: self.show_view("explore"))
        self.panels: dict[str, object] = {}
        self.file_dropped = None  # callable(list[str]) set by the app
        self.closing = None       # callable() set by the app: cancel running jobs before the window goes

    def closeEvent(self, event):
        if self.closing is not None:
            self.closing()
        super().closeEvent(event)

    def set_panel(self, name: str, widget) -> None:
        i = VIEWS.index(name)
        old = self.tabs.widget(i)
        current = self.tabs.currentIndex()
        self.tabs.removeTab(i)
        self.tabs.insertTab(i, widget, name.capitalize())
        self.tabs.setCurrentIndex(current)
        old.deleteLater()
        self.panels[name] = widget

    def show_view(self, name: str) -> None:
        self.tabs.setCurrentIndex(VIEWS.index(name))

    def set_database(self, text: str) -> None:
        self.db_label.setText(f"Database: {text}")

    def set_device(self, text: str) -> None:
        self.device_label.setText(f"Device: {text}")

    # drag and drop of data files onto the window opens the import wizard
    def dragEnterEvent(self, event):
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event):
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths and self.file_dropped is not None:
            self.file_dropped(paths)
