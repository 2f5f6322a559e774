"""The Train view's Workers and Cluster fields reach TrainConfig; they apply to the LSTM only."""
from __future__ import annotations

from llmrec_gui.widgets.training_form import TrainingForm


def test_workers_and_cluster_reach_the_config(qtbot):
    form = TrainingForm()
    qtbot.addWidget(form)
    cfg = form.config("demo")
    assert (cfg.workers, cfg.ray_address) == (1, None)       # default: train here
    form.workers.setValue(4)
    form.cluster.setText("  ray://head:10001 ")
    cfg = form.config("demo")
    assert (cfg.workers, cfg.ray_address) == (4, "ray://head:10001")
    form.set_values(model="ease")
    assert not form.workers.isEnabled() and not form.cluster.isEnabled()
    assert form.config("demo").workers == 1
