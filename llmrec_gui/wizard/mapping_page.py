"""Page 3: which column holds what (dropdowns), the rating scale and the positive threshold."""
from __future__ import annotations

import dataclasses

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout,
                               QLabel, QLineEdit, QPlainTextEdit, QVBoxLayout, QWizardPage)

NONE = "(none)"
NONE_MEANS = {   # what choosing "(none)" means, shown in the list itself
    "rating": "implicit data: every row is a positive",
    "timestamp": "the file order is the time order",
    "title": "items are shown by id",
    "genres": "no genres: genre diversity and calibration are unavailable",
    "description": "only the title is the item's text",
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
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(self.inter_box)
        row.addWidget(self.items_box)
        lay.addLayout(row)
        row2 = QHBoxLayout()
        row2.addWidget(self.scale_box)
        row2.addWidget(self.skip_box)
        lay.addLayout(row2)
        lay.addStretch(1)
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
        for role, optional, tip in (("user", False, "The user id column"), ("item", False, "The item id column"),
                                    ("rating", True, "The rating (none: implicit data, every row a positive)"),
                                    ("timestamp", True, "Unix seconds or ISO dates (none: file order)")):
            box = _col_combo(det.interactions, getattr(m, role), optional, role)
            box.setToolTip(tip)
            box.setObjectName(f"map-{role}")
            box.currentIndexChanged.connect(self.completeChanged)
            self.combos[role] = box
            f.addRow(role.capitalize() + ":", box)
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
        roles = (("item_id", "title", "genres", "description") if det.items is not None
                 else ("title", "genres", "description"))
        for role in roles:
            box = _col_combo(src, getattr(m, role), optional=role != "item_id", role=role)
            box.setObjectName(f"map-{role}")
            box.currentIndexChanged.connect(self.completeChanged)
            self.combos[role] = box
            f.addRow(role.replace("_", " ").capitalize() + ":", box)
        self.genre_sep = QLineEdit(m.genre_sep)
        self.genre_sep.setMaxLength(3)
        self.genre_sep.setToolTip("The character between genres/tags in the genres column")
        f.addRow("Genre separator:", self.genre_sep)
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
        det = wiz.detected
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
        from engine.commands.data import parse_exclude
        from engine.errors import EngineError
        try:
            rules = tuple(parse_exclude(line.strip()) for line in self.rules.toPlainText().splitlines()
                          if line.strip())
        except EngineError as exc:
            self.rules_error.setText(str(exc))
            return False
        self.rules_error.clear()
        wiz.mapping = dataclasses.replace(det.mapping, **values, timestamp_format=self.ts_format.currentData(),
                                          genre_sep=self.genre_sep.text() or "|", exclude=rules,
                                          skip_missing_user=self.skip_user.isChecked(), **scale)
        wiz.on_unknown_item = self.unknown.currentData()
        return True
