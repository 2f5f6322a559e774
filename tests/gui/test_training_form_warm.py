"""The Train view's "Warm start from" choice: finished LSTM runs of the dataset; choosing one makes a
warm-start TrainConfig (the run's own settings, a few epochs) and "none" restores the form."""
from __future__ import annotations

from types import SimpleNamespace

from llmrec_gui.widgets.training_form import TrainingForm


def _run(i, model, ndcg=None):
    return SimpleNamespace(id=i, model=model, metrics={} if ndcg is None else {"ndcg@10": ndcg})


def test_warm_start_choice_lists_lstm_runs_and_reaches_the_config(qtbot, tmp_path):
    form = TrainingForm()
    qtbot.addWidget(form)
    form.params["epochs"].setValue(12)
    form.set_runs([_run(3, "lstm", 0.1234), _run(4, "ease", 0.2), _run(7, "lstm"), _run(8, "lstm_ease", 0.3)])
    assert [form.warm.itemData(i) for i in range(form.warm.count())] == [None, 7, 3]
    assert form.warm.itemText(2) == "run 3: LSTM, NDCG@10 0.1234"
    assert form.config("demo").warm_start is None and form.config("demo").epochs == 12
    form.set_values(model="ease")
    form.warm.setCurrentIndex(form.warm.findData(3))
    cfg = form.config("demo")
    assert (cfg.warm_start, cfg.model, cfg.epochs, cfg.tune) == (3, "lstm", 2, False)
    assert not form.model.isEnabled() and not form.params["embedding_dim"].isEnabled()
    assert form.params["epochs"].isEnabled() and not form.workers.isEnabled()
    form.show()
    form.grab().save(str(tmp_path / "warm.png"))
    form.set_runs([_run(3, "lstm"), _run(9, "lstm")])           # a refresh keeps the choice
    assert form.config("demo").warm_start == 3
    form.warm.setCurrentIndex(0)
    cfg = form.config("demo")
    assert cfg.warm_start is None and cfg.epochs == 12 and form.model.isEnabled()
