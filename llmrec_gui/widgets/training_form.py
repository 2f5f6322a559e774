"""The training settings: model, objective, the main hyperparameters (with tooltips), device, the
Ray workers / cluster address for data-parallel training, and a warm start from a finished LSTM run."""
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
    "patience": ("int", 2, 0, 50, 1, "Epochs without validation improvement before stopping"),
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
        self.warm = QComboBox()
        self.warm.addItem("none: train from scratch", None)
        self.warm.setToolTip("Fine-tune a finished LSTM run of this dataset on its current data (after appending "
                             "new interactions, users or items) for a few epochs, with the run's own settings; "
                             "new items get item-id rows, new users need nothing. The result is a new run.")
        form.addRow("Warm start from:", self.warm)
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
        self.trials = QSpinBox()
        self.trials.setRange(0, 50)
        self.trials.setValue(0)
        self.trials.setSpecialValueText("default")
        self.trials.setToolTip("Settings tried on validation, with successive halving over epochs (the work budget: "
                               "the same seed makes the same choice at any machine load); default: the engine's "
                               "(the base settings, six one-knob moves and their combination)")
        self.budget = QSpinBox()
        self.budget.setRange(0, 600)
        self.budget.setValue(0)
        self.budget.setSpecialValueText("no limit")
        self.budget.setSuffix(" min")
        self.budget.setToolTip("Optional upper bound: no new tuning trial starts after this time (then the choice "
                               "depends on how busy the machine is); no limit by default")
        form.addRow(self.tune)
        form.addRow("Settings to try:", self.trials)
        form.addRow("Time limit:", self.budget)
        self.holdout = QCheckBox("Hold out the test split (evaluate)")
        self.holdout.setChecked(True)
        self.holdout.setToolTip("Train on TRAIN and report metrics on TEST (docs/evaluation.md); off: learn from all data")
        form.addRow(self.holdout)
        self.device = QComboBox()
        self.device.addItem("auto (GPU if TensorFlow sees one)", "auto")
        self.device.addItem("CPU", "cpu")
        self.device.setToolTip("Where TensorFlow trains; the list shows what TensorFlow sees (probed in a "
                               "separate process)")
        for combo in (self.model, self.objective, self.warm):     # the whole name shows
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        # a device's name comes from TensorFlow and can be very long: its own entries show whole, longer
        # GPU names are elided, with the whole name as the entry's tooltip (set_devices)
        self.device.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.device.setMinimumContentsLength(len(self.device.itemText(0)))
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
        self.warm.currentIndexChanged.connect(self._warm_changed)
        self.tune.toggled.connect(self._model_changed)
        self.extra: dict = {}
        self._scratch_epochs: int | None = None      # the epochs set before a warm start was chosen

    def _model_changed(self) -> None:
        warm = self.warm.currentData() is not None
        lstm = self.model.currentData() in TF_MODELS
        self.model.setEnabled(not warm)
        self.holdout.setEnabled(not warm)           # a warm start keeps its run's split
        for w in [self.objective, self.tune, self.trials, self.budget, *self.params.values()]:
            w.setEnabled(lstm and not warm)        # a warm start keeps its run's settings...
        self.budget.setEnabled(lstm and not warm and self.tune.isChecked())     # no tuning: no budget
        self.trials.setEnabled(lstm and not warm and self.tune.isChecked())
        self.device.setEnabled(lstm)
        self.params["epochs"].setEnabled(lstm)      # ...and trains for a few epochs
        for w in (self.workers, self.cluster):       # data-parallel training: the LSTM alone, from scratch
            w.setEnabled(self.model.currentData() == "lstm" and not warm)

    def _warm_changed(self) -> None:
        from engine.runs.training import WARM_START_EPOCHS
        epochs = self.params["epochs"]
        if self.warm.currentData() is not None:
            if self.model.currentData() != "lstm":
                self.model.setCurrentIndex(self.model.findData("lstm"))
            if self._scratch_epochs is None:         # remember the from-scratch epochs for "none"
                self._scratch_epochs = epochs.value()
                epochs.setValue(WARM_START_EPOCHS)
        elif self._scratch_epochs is not None:
            epochs.setValue(self._scratch_epochs)
            self._scratch_epochs = None
        self._model_changed()

    def set_runs(self, runs: list) -> None:
        """The finished LSTM runs of the current dataset, newest first, as warm-start choices."""
        keep = self.warm.currentData()
        self.warm.blockSignals(True)
        self.warm.clear()
        self.warm.addItem("none: train from scratch", None)
        for r in sorted((r for r in runs if r.model == "lstm"), key=lambda r: r.id, reverse=True):
            ndcg = (r.metrics or {}).get("ndcg@10")
            label = f"run {r.id}: LSTM" + (f", NDCG@10 {ndcg:.4f}" if ndcg is not None else "")
            self.warm.addItem(label, r.id)
        self.warm.setCurrentIndex(max(0, self.warm.findData(keep)))
        self.warm.blockSignals(False)
        self._warm_changed()

    def set_devices(self, devices: list[tuple[str, str]]) -> None:
        keep = self.device.currentData()
        self.device.clear()
        self.device.addItem("auto (GPU if TensorFlow sees one)", "auto")
        for kind, name in devices:
            self.device.addItem(f"{kind.upper()}: {name}", kind)
            self.device.setItemData(self.device.count() - 1, f"{kind.upper()}: {name}", Qt.ItemDataRole.ToolTipRole)
        i = self.device.findData(keep)
        self.device.setCurrentIndex(max(i, 0))

    def config(self, dataset: str):
        from engine.runs.training import TrainConfig
        if self.model.currentData() not in TF_MODELS:
            return TrainConfig(dataset=dataset, model=self.model.currentData(), holdout=self.holdout.isChecked())
        if self.warm.currentData() is not None:
            return TrainConfig(dataset=dataset, warm_start=int(self.warm.currentData()), tune=False,
                               epochs=self.params["epochs"].value(), device=self.device.currentData())
        values = {name: w.value() for name, w in self.params.items()}
        return TrainConfig(dataset=dataset, model=self.model.currentData(), objective=self.objective.currentData(),
                           device=self.device.currentData(), holdout=self.holdout.isChecked(),
                           tune=self.tune.isChecked(), budget_s=60.0 * self.budget.value(),
                           max_trials=self.trials.value(),
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
