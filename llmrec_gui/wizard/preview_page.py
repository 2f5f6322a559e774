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


INTERACTION_ROLES = ("user", "item", "rating", "timestamp")
ITEM_ROLES = ("item_id", "title", "genres", "description", "text")


def role_headers(sniff, mapping, roles) -> list[str]:
    """Column headers that say what was detected: "user", "rating"…; a header row's own name is
    kept beside the role ("userId → user"); columns with no role keep their name."""
    found: dict[int, str] = {}
    for role in roles:
        cols = getattr(mapping, role, None)
        for col in (cols if isinstance(cols, tuple) else (cols,)):
            if col is None:
                continue
            try:
                found.setdefault(sniff.index(col, role), role.replace("_", " "))
            except Exception:  # noqa: BLE001 - a mapping the file cannot satisfy: the mapping page says so
                continue
    flags = {k: g for k, g in getattr(mapping, "genre_flags", ()) or ()}
    out = []
    for k, name in enumerate(sniff.columns):
        role = found.get(k) or (f"genre: {flags[k]}" if k in flags else None)
        if role is None:
            out.append(name)
        elif sniff.has_header:
            out.append(f"{name} → {role}")
        else:
            out.append(role)
    return out


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
        roles = {"Interactions": INTERACTION_ROLES + (() if det.items is not None else ITEM_ROLES[1:]),
                 "Items": ITEM_ROLES, "Tags": ()}
        for role, sniff in (("Interactions", det.interactions), ("Items", det.items), ("Tags", det.tags)):
            if sniff is None:
                continue
            table = QTableWidget()
            table.setObjectName(f"preview-{role.lower()}")
            fill_table(table, role_headers(sniff, det.mapping, roles[role]), [list(r) for r in sniff.sample[:20]])
            self.tabs.addTab(table, role)
            lines.append(f"{role}: {sniff.path} — delimiter {sniff.delimiter_name}, "
                         f"{'header row' if sniff.has_header else 'no header'}, {sniff.encoding}"
                         f"{', gzip' if sniff.compressed else ''}")
        lines += list(det.notes)
        self.info.setText("<br>".join(lines))
