"""Page 3: which column holds what (dropdowns; ticks for the categories and the labelled text columns,
with a live preview of the items' text), the rating scale and the positive threshold. A mapping can be
saved to a file and loaded again for the next file of the same shape."""
from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWizardPage,
)

NONE = "(none)"
NONE_MEANS = {   # what choosing "(none)" means, shown in the list itself
    "rating": "implicit data: every row is a positive",
    "timestamp": "the file order is the time order",
    "title": "items are shown by id",
    "genres": "no genres: genre diversity and calibration are unavailable",
    "description": "no description column: the title and the ticked text columns are the item's text",
}


def _col_combo(sniff, current, optional: bool, role: str = "") -> QComboBox:
    box = QComboBox()
    if optional:
        means = NONE_MEANS.get(role)
        box.addItem(f"{NONE} — {means}" if means else NONE, None)
        box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        box.setMinimumContentsLength(18)     # the list shows the whole explanation
    for k, name in enumerate(sniff.columns):
        box.addItem(name, name if sniff.has_header else k)
    if current is not None:
        want = current
        if isinstance(current, str) and not sniff.has_header:
            want = None
        i = box.findData(want) if want is not None else -1
        if i < 0 and isinstance(current, int) and sniff.has_header and 0 <= current < len(sniff.columns):
            i = box.findData(sniff.columns[current])
        if i >= 0:
            box.setCurrentIndex(i)
    elif not optional:
        box.setCurrentIndex(-1)
    return box


def _spin(value: float | None, tip: str) -> QDoubleSpinBox:
    s = QDoubleSpinBox()
    s.setRange(-1e6, 1e6)
    s.setDecimals(2)
    s.setSingleStep(0.5)
    s.setValue(0.0 if value is None else float(value))
    s.setToolTip(tip)
    return s


def _rule_text(e) -> str:
    """An engine Exclude rule in the CLI's one-line syntax (what the rules box shows and parses)."""
    op = {"prefix": "^=", "eq": "==", "lt": "<"}[e.op]
    col = e.column + 1 if isinstance(e.column, int) else e.column
    return f"{e.reason}:{col}{op}{e.value}"


class _Tick:
    """A checkable cell of the item-columns table, with a check box's isChecked / setChecked."""

    def __init__(self, cell: QTableWidgetItem):
        self.cell = cell

    def isChecked(self) -> bool:
        return self.cell.checkState() == Qt.CheckState.Checked

    def setChecked(self, on: bool) -> None:
        self.cell.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)


class MappingPage(QWizardPage):
    def __init__(self):
        super().__init__()
        self.setTitle("Columns and rating scale")
        self.setSubTitle("Check what each column holds. Ratings at or above the positive threshold count as "
                         "positives; data without ratings (purchases, clicks) is all positives.")
        self.inter_box = QGroupBox("Interactions file")
        self.items_box = QGroupBox("Item text")
        self.scale_box = QGroupBox("Rating scale")
        self.skip_box = QGroupBox("Rows to skip (counted in the summary)")
        self.skip_user = QCheckBox("Skip rows with no user id (e.g. guest purchases)")
        self.rules = QPlainTextEdit()
        self.rules.setPlaceholderText("One rule per line: [REASON:]COLUMN^=PREFIX, COLUMN==VALUE or COLUMN<NUMBER\n"
                                      "e.g.  cancellation:InvoiceNo^=C   or   returns:Quantity<1")
        self.rules.setMaximumHeight(70)
        self.rules_error = QLabel()
        self.rules_error.setStyleSheet("color: #b00020")
        sl = QVBoxLayout(self.skip_box)
        sl.addWidget(self.skip_user)
        sl.addWidget(self.rules)
        sl.addWidget(self.rules_error)
        self.combos: dict[str, QComboBox] = {}
        self.text_checks: dict[object, _Tick] = {}     # column -> "in the item text" tick
        self.genre_checks: dict[object, _Tick] = {}    # column -> "a category" tick
        self.columns_box = QGroupBox("Item columns: categories and text")
        self.columns_table = QTableWidget(0, 5)
        self.columns_table.setObjectName("item-columns")
        self.columns_table.setHorizontalHeaderLabels(["Column", "Detected", "Category", "Text", "Example"])
        self.columns_table.verticalHeader().setVisible(False)
        self.columns_table.verticalHeader().setDefaultSectionSize(22)
        self.columns_table.setWordWrap(False)
        self.columns_table.horizontalHeader().setStretchLastSection(True)
        self.columns_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.columns_table.setMinimumHeight(180)
        self.columns_table.itemChanged.connect(self._update_preview)
        self.preview = QPlainTextEdit()
        self.preview.setObjectName("text-preview")
        self.preview.setReadOnly(True)
        self.preview.setToolTip("The first items as they will be stored: title, categories and text")
        self.genres_label = QLineEdit()
        self.genres_label.setToolTip("What the categories are called in the app (Genres for films)")
        self.mapping_error = QLabel()
        self.mapping_error.setStyleSheet("color: #b00020")
        save = QPushButton("Save mapping…")
        save.setToolTip("Write this mapping to a JSON file, to reuse for the next file of the same shape "
                        "(here or with llmrec import --mapping FILE)")
        save.clicked.connect(self._save_dialog)
        load = QPushButton("Load mapping…")
        load.setToolTip("Use a mapping saved before (JSON or TOML)")
        load.clicked.connect(self._load_dialog)
        left = QVBoxLayout()
        left.addWidget(self.columns_table, 1)
        label_row = QHBoxLayout()
        label_row.addWidget(QLabel("Categories are called:"))
        label_row.addWidget(self.genres_label)
        left.addLayout(label_row)
        right = QVBoxLayout()
        right.addWidget(QLabel("Preview of the item text:"))
        right.addWidget(self.preview, 1)
        cl = QHBoxLayout(self.columns_box)
        cl.addLayout(left, 3)
        cl.addLayout(right, 2)
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(self.inter_box)
        row.addWidget(self.items_box)
        lay.addLayout(row)
        lay.addWidget(self.columns_box, 1)
        for box in (self.inter_box, self.items_box, self.scale_box, self.skip_box):
            box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        row2 = QHBoxLayout()
        row2.addWidget(self.scale_box)
        row2.addWidget(self.skip_box)
        lay.addLayout(row2)
        buttons = QHBoxLayout()
        buttons.addWidget(self.mapping_error, 1)
        buttons.addWidget(load)
        buttons.addWidget(save)
        lay.addLayout(buttons)
        QFormLayout(self.inter_box)
        QFormLayout(self.items_box)
        QFormLayout(self.scale_box)

    @staticmethod
    def _reset(form: QFormLayout) -> None:
        while form.rowCount():
            form.removeRow(0)

    def initializePage(self) -> None:
        det = self.wizard().detected
        m = det.mapping
        self.combos = {}
        f = self.inter_box.layout()
        self._reset(f)
        ties = dict(det.ambiguous)
        for role, optional, tip in (("user", False, "The user id column"), ("item", False, "The item id column"),
                                    ("rating", True, "The rating (none: implicit data, every row a positive)"),
                                    ("timestamp", True, "Unix seconds or ISO dates (none: file order)")):
            box = _col_combo(det.interactions, getattr(m, role), optional, role)
            box.setToolTip(tip)
            box.setObjectName(f"map-{role}")
            box.currentIndexChanged.connect(self.completeChanged)
            box.currentIndexChanged.connect(self._update_preview)
            self.combos[role] = box
            f.addRow(role.capitalize() + ":", box)
            if role in ties and getattr(m, role) is None:
                ask = QLabel(f"<b>Choose:</b> {' or '.join(ties[role])} could be the {role}.")
                ask.setObjectName(f"ask-{role}")
                ask.setStyleSheet("color: #b00020")
                f.addRow("", ask)
        self.ts_format = QComboBox()
        for v in ("auto", "epoch", "iso"):
            self.ts_format.addItem(v, v)
        self.ts_format.setCurrentIndex(self.ts_format.findData(m.timestamp_format))
        f.addRow("Time format:", self.ts_format)
        self.unknown = QComboBox()
        self.unknown.addItem("stop with an error", "error")
        self.unknown.addItem("drop the row (counted)", "drop")
        self.unknown.setToolTip("What to do with an interaction whose item is not in the item file")
        f.addRow("Unknown items:", self.unknown)

        f = self.items_box.layout()
        self._reset(f)
        src = det.items or det.interactions
        self.items_box.setTitle("Item file" if det.items is not None else "Item text (from the interactions file)")
        roles = (("item_id", "title", "description") if det.items is not None else ("title", "description"))
        for role in roles:
            box = _col_combo(src, getattr(m, role), optional=role != "item_id", role=role)
            box.setObjectName(f"map-{role}")
            box.currentIndexChanged.connect(self.completeChanged)
            box.currentIndexChanged.connect(self._update_preview)
            self.combos[role] = box
            f.addRow(role.replace("_", " ").capitalize() + ":", box)
        self.genre_sep = QLineEdit(m.genre_sep)
        self.genre_sep.setMaxLength(3)
        self.genre_sep.setToolTip("The character between categories in a cell that is not a [...] list")
        self.genre_sep.textChanged.connect(self._update_preview)
        f.addRow("Category separator:", self.genre_sep)
        if m.genre_flags:
            f.addRow(QLabel(f"{len(m.genre_flags)} genre flag columns (MovieLens 100K) are read as genres."))

        f = self.scale_box.layout()
        self._reset(f)
        implicit = det.rating_min is None and m.rating is None
        self.implicit = QCheckBox("No ratings: every interaction is a positive (implicit feedback)")
        self.implicit.setChecked(implicit)
        self.rmin = _spin(m.rating_min if m.rating_min is not None else det.rating_min, "Lowest possible rating")
        self.rmax = _spin(m.rating_max if m.rating_max is not None else det.rating_max, "Highest possible rating")
        thr = m.positive_threshold if m.positive_threshold is not None else det.positive_threshold
        self.threshold = _spin(thr, "A rating at or above this is a positive (e.g. 4 on 1-5, 8 on 0-10)")
        self.threshold.setObjectName("threshold")
        scale = QHBoxLayout()
        for lab, w in (("min", self.rmin), ("max", self.rmax), ("positive ≥", self.threshold)):
            scale.addWidget(QLabel(lab))
            scale.addWidget(w)
        f.addRow(self.implicit)
        f.addRow("Scale:", scale)
        if det.rating_min is None and not implicit:
            f.addRow(QLabel("<small>Scale from the data when left at 0–0 (min = max).</small>"))
        self.implicit.toggled.connect(self._implicit)
        self._implicit(implicit)
        self.skip_user.setChecked(m.skip_missing_user)
        self.rules.setPlainText("\n".join(_rule_text(e) for e in m.exclude))
        self.rules_error.clear()
        self.mapping_error.clear()
        self._fill_columns(src, m)

    def _fill_columns(self, src, m) -> None:
        """One row per column of the item source: its detected kind, and ticks for categories and text."""
        from engine.ingest.roles import profile_columns
        table = self.columns_table
        table.blockSignals(True)
        profiles = profile_columns(src)
        table.setRowCount(len(profiles))
        genres = {self._key(src, c) for c in m.genre_columns}
        text = {self._key(src, c) for c in m.text}
        self.text_checks, self.genre_checks = {}, {}
        for r, prof in enumerate(profiles):
            key = prof.name if src.has_header else prof.index
            example = prof.example if len(prof.example) <= 40 else prof.example[:39] + "…"
            for c, value in ((0, prof.name), (1, prof.description), (4, example)):
                cell = QTableWidgetItem(value)
                cell.setFlags(Qt.ItemFlag.ItemIsEnabled)
                cell.setToolTip(prof.example if c == 4 else "")
                table.setItem(r, c, cell)
            for c, checks, on in ((2, self.genre_checks, key in genres), (3, self.text_checks, key in text)):
                cell = QTableWidgetItem()
                cell.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                table.setItem(r, c, cell)
                checks[key] = _Tick(cell)
                checks[key].setChecked(on)
        table.resizeColumnsToContents()
        table.blockSignals(False)
        self.genres_label.setText(m.genres_label or "Genres")
        self._update_preview()

    @staticmethod
    def _key(src, col):
        """A mapping column as this page keys it: the header name, or the 0-based number."""
        if src.has_header:
            return src.columns[col] if isinstance(col, int) and 0 <= col < src.n_columns else col
        return col

    def _update_preview(self, *_args) -> None:
        from engine.errors import EngineError
        from engine.ingest.items import preview_items
        wiz = self.wizard()
        if wiz is None or wiz.detected is None or not self.text_checks and not self.genre_checks:
            return
        try:
            items = preview_items(wiz.detected, self._mapping(rules=()), n=3)
        except EngineError as exc:
            self.preview.setPlainText(f"(no preview: {exc})")
            return
        label = self.genres_label.text().strip() or "Genres"
        blocks = []
        for item_id, title, genres, desc in items:
            lines = [f"{title or item_id}"]
            if genres:
                lines.append(f"{label}: {', '.join(genres)}")
            if desc:
                lines.append(desc)
            blocks.append("\n".join(lines))
        self.preview.setPlainText("\n\n".join(blocks) or "(no items)")

    def _mapping(self, rules=None):
        """The mapping as the page shows it now (`rules`: the skip rules, parsed by the caller)."""
        det = self.wizard().detected
        values = {role: box.currentData() for role, box in self.combos.items()}
        if self.implicit.isChecked():
            values["rating"] = None
        scale = {}
        if not self.implicit.isChecked() and values.get("rating") is not None:
            lo, hi = self.rmin.value(), self.rmax.value()
            if hi > lo:
                scale = dict(rating_min=lo, rating_max=hi, positive_threshold=self.threshold.value())
            elif self.threshold.value() != 0:
                scale = dict(positive_threshold=self.threshold.value())
        genres = tuple(k for k, box in self.genre_checks.items() if box.isChecked())
        text = tuple(k for k, box in self.text_checks.items() if box.isChecked())
        label = self.genres_label.text().strip() or None
        return dataclasses.replace(det.mapping, **values, timestamp_format=self.ts_format.currentData(),
                                   genre_sep=self.genre_sep.text() or "|",
                                   exclude=det.mapping.exclude if rules is None else rules,
                                   skip_missing_user=self.skip_user.isChecked(),
                                   genres=(genres[0] if len(genres) == 1 else genres) if genres else None,
                                   text=text, genres_label=label, **scale)

    def _parse_rules(self):
        from engine.cli.data import parse_exclude
        return tuple(parse_exclude(line.strip()) for line in self.rules.toPlainText().splitlines() if line.strip())

    def save_mapping_to(self, path: str) -> bool:
        """Write the page's mapping as JSON (what `llmrec import --mapping FILE` reads)."""
        from engine.errors import EngineError
        from engine.ingest.mapping_file import save_mapping
        try:
            save_mapping(path, self._mapping(self._parse_rules()))
        except (EngineError, OSError) as exc:
            self.mapping_error.setText(f"Not saved: {exc}")
            return False
        self.mapping_error.setText(f"Mapping saved to {path}")
        return True

    def load_mapping_from(self, path: str) -> bool:
        """Apply a saved mapping (JSON or TOML) to the detected files and show it on the page."""
        from engine.errors import EngineError
        from engine.ingest.formats import with_mapping
        from engine.ingest.mapping_file import load_mapping
        wiz = self.wizard()
        try:
            wiz.detected = with_mapping(wiz.detected, load_mapping(path))
        except EngineError as exc:
            self.mapping_error.setText(str(exc))
            return False
        self.initializePage()
        self.mapping_error.setText(f"Mapping loaded from {path}")
        return True

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the mapping", "mapping.json", "Mapping (*.json)")
        if path:
            self.save_mapping_to(path)

    def _load_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load a mapping", "", "Mapping (*.json *.toml);;All files (*)")
        if path:
            self.load_mapping_from(path)

    def _implicit(self, on: bool) -> None:
        for w in (self.rmin, self.rmax, self.threshold):
            w.setEnabled(not on)
        if on:
            self.combos["rating"].setCurrentIndex(0)

    def isComplete(self) -> bool:
        return all(self.combos[r].currentIndex() >= 0 and self.combos[r].currentData() is not None
                   for r in ("user", "item") if r in self.combos)

    def validatePage(self) -> bool:
        wiz = self.wizard()
        from engine.errors import EngineError
        try:
            rules = self._parse_rules()
        except EngineError as exc:
            self.rules_error.setText(str(exc))
            return False
        self.rules_error.clear()
        wiz.mapping = self._mapping(rules)
        wiz.on_unknown_item = self.unknown.currentData()
        return True
