"""The training settings: model, objective, the main hyperparameters (with tooltips), device, and the
Ray workers / cluster address for data-parallel training."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QLineEdit, QSpinBox

MODELS = (("lstm", "LSTM two-tower (text-aware, TensorFlow)"), ("lstm_ease", "LSTM + EASE (blend chosen on validation)"),
          ("ease", "EASE (closed form)"), ("als", "ALS (implicit)"), ("itemknn", "ItemKNN (cosine)"),
          ("popularity", "MostPopular"))
TF_MODELS = ("lstm", "lstm_ease")
OBJECTIVES = (("softmax", "In-batch softmax with logQ correction (recommended)"),
              ("paper", "The article's: cosine → sigmoid, binary cross-entropy with sampled negatives"))

# name: (kind, default, min, max, step, tooltip)
PARAMS = {
    "epochs": ("int", 20, 1, 500, 1, "Passes over the training sequences (early stopping on validation NDCG@10)"),
    "batch_size": ("int", 512, 8, 8192, 64, "Sequences per gradient step; also the in-batch negatives for softmax"),
    "embedding_dim": ("int", 128, 4, 512, 8, "Size of the user and item vectors (the model's item space)"),
    "max_len": ("int", 20, 2, 200, 1, "How many of the most recent history items the user tower reads"),
    "learning_rate": ("float", 1e-3, 1e-5, 1.0, 1e-3, "Adam learning rate"),
    "temperature": ("float", 0.1, 0.001, 10.0, 0.01, "Softmax temperature (lower = sharper)"),
    "negatives": ("int", 4, 1, 100, 1, "Sampled negatives per positive (the article's objective only)"),
    "patience": ("int", 3, 0, 50, 1, "Epochs without validation improvement before stopping"),
}


class TrainingForm(QGroupBox):
    def __init__(self, parent=None):
        super().__init__("Training", parent)
        form = QFormLayout(self)
        self.model = QComboBox()
        for key, text in MODELS:
            self.model.addItem(text, key)
        self.model.setToolTip("The LSTM trains in a separate process; the baselines are numpy and fast")
        self.objective = QComboBox()
        for key, text in OBJECTIVES:
            self.objective.addItem(key, key)
            self.objective.setItemData(self.objective.count() - 1, text, Qt.ItemDataRole.ToolTipRole)
        self.objective.setToolTip("\n".join(f"{k}: {t}" for k, t in OBJECTIVES))
        form.addRow("Model:", self.model)
        form.addRow("Objective:", self.objective)
        self.params: dict = {}
        for name, (kind, default, lo, hi, step, tip) in PARAMS.items():
            w = QSpinBox() if kind == "int" else QDoubleSpinBox()
            if kind == "float":
                w.setDecimals(4)
            w.setRange(lo, hi)
            w.setSingleStep(step)
            w.setValue(default)
            w.setToolTip(tip)
            w.setObjectName(name)
            self.params[name] = w
            form.addRow(name.replace("_", " ").capitalize() + ":", w)
        self.tune = QCheckBox("Tune on validation (Optuna)")
        self.tune.setChecked(True)
        self.tune.setToolTip("Search embedding size, temperature, learning rate, history length, dropout and the "
                             "id-embedding scale on the dataset's validation split first, starting from the "
                             "settings above; off: train with the settings above")
        self.budget = QSpinBox()
        self.budget.setRange(1, 600)
        self.budget.setValue(15)
        self.budget.setSuffix(" min")
        self.budget.setToolTip("No new tuning trial starts after this time")
        form.addRow(self.tune)
        form.addRow("Tuning budget:", self.budget)
        self.holdout = QCheckBox("Hold out the test split (evaluate)")
        self.holdout.setChecked(True)
        self.holdout.setToolTip("Train on TRAIN and report metrics on TEST (EVALUATION.md); off: learn from all data")
        form.addRow(self.holdout)
        self.device = QComboBox()
        self.device.addItem("auto (GPU if TensorFlow sees one)", "auto")
        self.device.addItem("CPU", "cpu")
        self.device.setToolTip("Where TensorFlow trains; the list shows what TensorFlow sees (probed in a "
                               "separate process)")
        for combo in (self.model, self.objective, self.device):     # long names must not widen the form
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(16)
        form.addRow("Device:", self.device)
        self.workers = QSpinBox()
        self.workers.setRange(1, 1024)
        self.workers.setToolTip("1: train here. More: data-parallel on Ray workers (each reads its own shard; "
                                "needs pip install -e '.[distributed]')")
        self.cluster = QLineEdit()
        self.cluster.setPlaceholderText("empty: a local Ray cluster")
        self.cluster.setToolTip("Address of a running Ray cluster to join, e.g. ray://head:10001")
        form.addRow("Workers:", self.workers)
        form.addRow("Cluster:", self.cluster)
        self.model.currentIndexChanged.connect(self._model_changed)
        self.extra: dict = {}

    def _model_changed(self) -> None:
        lstm = self.model.currentData() in TF_MODELS
        for w in [self.objective, self.device, self.tune, self.budget, *self.params.values()]:
            w.setEnabled(lstm)
        for w in (self.workers, self.cluster):       # data-parallel training: the LSTM alone
            w.setEnabled(self.model.currentData() == "lstm")

    def set_devices(self, devices: list[tuple[str, str]]) -> None:
        keep = self.device.currentData()
        self.device.clear()
        self.device.addItem("auto (GPU if TensorFlow sees one)", "auto")
        for kind, name in devices:
            self.device.addItem(f"{kind.upper()}: {name}", kind)
        i = self.device.findData(keep)
        self.device.setCurrentIndex(max(i, 0))

    def config(self, dataset: str):
        from engine.training import TrainConfig
        if self.model.currentData() not in TF_MODELS:
            return TrainConfig(dataset=dataset, model=self.model.currentData(), holdout=self.holdout.isChecked())
        values = {name: w.value() for name, w in self.params.items()}
        return TrainConfig(dataset=dataset, model=self.model.currentData(), objective=self.objective.currentData(),
                           device=self.device.currentData(), holdout=self.holdout.isChecked(),
                           tune=self.tune.isChecked(), budget_s=60.0 * self.budget.value(),
                           workers=self.workers.value(), ray_address=self.cluster.text().strip() or None,
                           extra=dict(self.extra), **values)

    def set_values(self, **values) -> None:
        """Set hyperparameters by name (tests, presets); unknown names go to TrainConfig.extra."""
        for name, v in values.items():
            if name in self.params:
                self.params[name].setValue(v)
            elif name == "model":
                self.model.setCurrentIndex(self.model.findData(v))
            elif name == "device":
                self.device.setCurrentIndex(max(0, self.device.findData(v)))
            elif name == "tune":
                self.tune.setChecked(bool(v))
            else:
                self.extra[name] = v
