"""Small frictions of the app as a daily tool (issue 22): dialog defaults, fields that follow their
switches, tooltips, transient status messages and plot axes."""
from __future__ import annotations

from llmrec_gui.state import AppState
from llmrec_gui.widgets.training_form import TrainingForm
from llmrec_gui.widgets.training_panel import TrainingPanel


def test_small_index_question_defaults_to_no(qtbot):
    from PySide6.QtWidgets import QMessageBox
    panel = TrainingPanel(AppState())
    qtbot.addWidget(panel)
    box = panel.small_index_box(200, 50_000)
    assert "anyway" in box.text()
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.No)
    assert box.escapeButton() is box.button(QMessageBox.StandardButton.No)
    box.deleteLater()


def test_tuning_budget_follows_tune_on_validation(qtbot):
    form = TrainingForm()
    qtbot.addWidget(form)
    form.set_values(model="lstm")
    assert form.tune.isChecked() and form.budget.isEnabled()
    form.tune.setChecked(False)
    assert not form.budget.isEnabled()
    form.tune.setChecked(True)
    assert form.budget.isEnabled()
    form.set_values(model="ease")                  # no tuning for a baseline, whatever the box says
    assert not form.budget.isEnabled()
    form.set_values(model="lstm", tune=False)
    assert not form.budget.isEnabled() and form.tune.isEnabled()
