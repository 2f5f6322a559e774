"""The Explore view's controls bar: diversity trade-off, re-ranking method and space, heatmap space, list length.
Its own widget so the panel only wires it; the settings it keeps are read and written here."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QWidget
from superqt import QLabeledDoubleSlider

SPACES = ("model", "text", "genres")
METHODS = {"mmr": "MMR", "ild": "Marginal ILD", "dpp": "DPP", "calibration": "Calibrated"}
METHOD_TIPS = ("MMR: maximal marginal relevance; Marginal ILD: each pick pays for what it takes from the list's "
               "diversity; DPP: determinantal point process (greedy MAP); Calibrated: match the user's genre mix "
               "(Steck 2018)")
RERANK_SPACES = ("auto", "model", "categories", "text")
RERANK_TIP = ("Where the slider measures \"alike\": auto (the space chosen for this run on half of its test users, "
              "by the frontier), the model's item vectors, the categories, the item text (TF-IDF), or semantic (the "
              "language model; once the catalogue is encoded)")


class ExplorerControls(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.slider = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0.0, 1.0)
        self.slider.setSingleStep(0.05)
        self.slider.setValue(0.0)
        self.slider.setToolTip("Diversity trade-off: 0 = the model's order, 1 = the most diverse list")
        self.method = QComboBox()
        for m, label in METHODS.items():
            self.method.addItem(label, m)
        self.method.setToolTip(METHOD_TIPS)
        self.space = QComboBox()
        for s in SPACES:
            self.space.addItem(s, s)
        self.space.setToolTip("Similarity space of the heatmap: the model's item vectors, item text (TF-IDF), "
                              "genres (Jaccard), or semantic (the language model; once the catalogue is encoded)")
        self.rerank_space = QComboBox()
        for s in RERANK_SPACES:
            self.rerank_space.addItem(s, s)
        self.rerank_space.setToolTip(RERANK_TIP)
        for combo in (self.method, self.space, self.rerank_space):     # "semantic", added later, shows whole
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.k = QSpinBox()
        self.k.setRange(5, 30)
        self.k.setValue(10)
        self.k.setToolTip("List length")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        for label, w, stretch in (("Diversity:", self.slider, 3), ("Method:", self.method, 0),
                                  ("Re-rank in:", self.rerank_space, 0), ("Heatmap space:", self.space, 0),
                                  ("k:", self.k, 0)):
            lay.addWidget(QLabel(label))
            lay.addWidget(w, stretch)

    def tradeoff(self) -> float:
        """The slider's value without float noise (0.7992, not 0.7992277992277992)."""
        return round(float(self.slider.value()), 4)

    def restore(self, settings) -> None:
        """The trade-off and method of the last session."""
        try:
            self.slider.setValue(min(1.0, max(0.0, float(settings.value("explore/tradeoff", 0.0)))))
        except (TypeError, ValueError):
            pass
        i = self.method.findData(settings.value("explore/method", "mmr"))
        self.method.setCurrentIndex(max(i, 0))
        i = self.rerank_space.findData(settings.value("explore/rerank_space", "auto"))
        self.rerank_space.setCurrentIndex(max(i, 0))

    def save(self, settings, tradeoff: float, method: str) -> None:
        settings.setValue("explore/tradeoff", tradeoff)
        settings.setValue("explore/method", method)
        settings.setValue("explore/rerank_space", self.rerank_space.currentData())

    def show_chosen(self, space: str | None) -> None:
        """Say which space "auto" stands for on this run (once the choice is made)."""
        label = "auto" if space is None else f"auto ({self.rerank_space.itemText(self.rerank_space.findData(space))})"
        self.rerank_space.setItemText(0, label)

    def set_categories_name(self, name: str) -> None:
        """Call the categories space by the dataset's name for them ("categories" for wines)."""
        at = self.space.findData("genres")
        if at >= 0:
            self.space.setItemText(at, name)
        at = self.rerank_space.findData("categories")
        if at >= 0:
            self.rerank_space.setItemText(at, name)

    def offer_semantic(self, ready: bool) -> None:
        """Offer the language model's space only while the catalogue's vectors are attached."""
        for combo in (self.space, self.rerank_space):
            at = combo.findData("semantic")
            if ready and at < 0:
                combo.addItem("semantic", "semantic")
            elif not ready and at >= 0:
                if combo.currentIndex() == at:
                    combo.setCurrentIndex(0)
                combo.removeItem(at)
