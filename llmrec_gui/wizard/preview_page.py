"""Page 2: the first rows of each file as parsed, and what was detected."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QTableWidget, QTableWidgetItem, QTabWidget, QVBoxLayout, QWizardPage


def fill_table(table: QTableWidget, columns, rows) -> None:
    table.clear()
    table.setColumnCount(len(columns))
    table.setHorizontalHeaderLabels([str(c) for c in columns])
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, cell in enumerate(row[: len(columns)]):
            table.setItem(r, c, QTableWidgetItem(str(cell)))
    table.resizeColumnsToContents()


class PreviewPage(QWizardPage):
    def __init__(self):
        super().__init__()
        self.setTitle("Preview")
        self.setSubTitle("The first rows as the importer reads them. If the columns look wrong, go back and "
                         "choose the format.")
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.tabs = QTabWidget()
        lay = QVBoxLayout(self)
        lay.addWidget(self.info)
        lay.addWidget(self.tabs)

    def initializePage(self) -> None:
        det = self.wizard().detected
        self.tabs.clear()
        lines = [f"Detected format: <b>{det.name}</b>; dataset name: <b>{self.wizard().dataset_name}</b>"]
        for role, sniff in (("Interactions", det.interactions), ("Items", det.items), ("Tags", det.tags)):
            if sniff is None:
                continue
            table = QTableWidget()
            table.setObjectName(f"preview-{role.lower()}")
            fill_table(table, sniff.columns, [list(r) for r in sniff.sample[:20]])
            self.tabs.addTab(table, role)
            lines.append(f"{role}: {sniff.path} — delimiter {sniff.delimiter_name}, "
                         f"{'header row' if sniff.has_header else 'no header'}, {sniff.encoding}"
                         f"{', gzip' if sniff.compressed else ''}")
        lines += list(det.notes)
        self.info.setText("<br>".join(lines))
