"""The current list's beyond-accuracy metrics (ILD by category and in the re-ranking space, mean
pairwise cosine, novelty)."""
from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel

TIPS = {
    "ILD (genres)": "Intra-list diversity: mean over pairs of 1 - cosine of genre multi-hot vectors (higher = more diverse)",
    "ILD (model)": "Intra-list diversity in the model's own item space",
    "ILD (text)": "Intra-list diversity in the item-text (TF-IDF) space",
    "mean pairwise cosine": "The source article's 'diversity': mean pairwise cosine similarity (lower = more diverse)",
    "novelty": "Mean -log2 popularity of the listed items in training (higher = less mainstream)",
}


def tip(name: str) -> str:
    """The tooltip of a metric row; 'ILD (categories)' gets the genres' one under the dataset's name."""
    if name in TIPS:
        return TIPS[name]
    if name.startswith("mean cosine ("):
        return (f"The source article's 'diversity': mean pairwise cosine similarity in the {name[13:-1]} space, where "
                "the slider re-ranks (lower = more diverse)")
    if name.startswith("ILD (") and name.endswith(")"):
        return (f"Intra-list diversity: mean over pairs of 1 - cosine of the items' {name[5:-1]} (multi-hot "
                "vectors; higher = more diverse)")
    return ""


class MetricsView(QGroupBox):
    def __init__(self, parent=None):
        super().__init__("List metrics", parent)
        self.form = QFormLayout(self)
        self.labels: dict[str, QLabel] = {}
        self.values: dict = {}

    def set_metrics(self, metrics: dict) -> None:
        if list(metrics) != list(self.labels):   # another model's spaces: rebuild the rows
            while self.form.rowCount():
                self.form.removeRow(0)
            self.labels = {}
        self.values = dict(metrics)
        for name, value in metrics.items():
            if name not in self.labels:
                lab = QLabel()
                self.labels[name] = lab
                key = QLabel(name + ":")
                key.setToolTip(tip(name))
                lab.setToolTip(tip(name))
                self.form.addRow(key, lab)
            self.labels[name].setText("–" if value != value else f"{value:.3f}")
