"""Issue 22: the Train view's bar and label follow a baseline's fit and evaluation (StepProgress phases
with done/total, as engine.runs.baselines reports them)."""
from __future__ import annotations

from engine.runs.baselines import evaluate_stage, fit_stage
from engine.types import StepProgress
from llmrec_gui.widgets.training_panel import step_text


def test_step_text_puts_counts_in_the_stage_brackets():
    assert step_text(StepProgress(fit_stage("als"), 0, 1)) == "Fitting als: 0/1"
    assert step_text(StepProgress(evaluate_stage("als"), 256, 8554)) == "Evaluating als (users 256/8,554)"
    assert step_text(StepProgress("ALS: alternating least squares", 3, 15)) == "ALS: alternating least squares: 3/15"


def test_bar_moves_through_fit_and_evaluation(qtbot, controller):
    panel = controller.training_panel
    seen = []
    for u in (StepProgress(fit_stage("als"), 0, 1), StepProgress("ALS: alternating least squares", 5, 15),
              StepProgress(fit_stage("als"), 1, 1), StepProgress(evaluate_stage("als"), 0, 8554),
              StepProgress(evaluate_stage("als"), 4096, 8554), StepProgress(evaluate_stage("als"), 8554, 8554)):
        panel._progress(u)
        seen.append((panel.progress_label.text(), panel.progress.value()))
    assert seen == [("Fitting als: 0/1", 0), ("ALS: alternating least squares: 5/15", 333), ("Fitting als: 1/1", 1000),
                    ("Evaluating als (users 0/8,554)", 0), ("Evaluating als (users 4,096/8,554)", 478),
                    ("Evaluating als (users 8,554/8,554)", 1000)]
