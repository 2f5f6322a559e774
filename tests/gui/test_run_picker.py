"""Explore keeps the run the user chose (issue 22, item 2): a visible run picker (model, date, NDCG@10), and a
run that finishes meanwhile is offered ("a new run is ready: switch?"), never switched to."""
from __future__ import annotations


def _fit(ctrl, model: str) -> int:
    from engine.data.demo import DEMO_NAME
    from engine.runs.baselines import fit_baseline
    return ctrl.state.store.call(fit_baseline, DEMO_NAME, model)


def test_a_new_run_is_offered_not_switched_to(qtbot, controller, explorer):
    state, picker = controller.state, explorer.run_picker
    first = state.run.id
    assert picker.current_id() == first
    assert "EASE" in picker.combo.currentText() and "NDCG@10" in picker.combo.currentText()
    new = _fit(controller, "popularity")
    state.announce_run(new)                                   # what a finished fit or training says
    qtbot.waitUntil(lambda: picker.offered is not None, timeout=30000)
    assert state.run.id == first and explorer.run.info.id == first      # still the chosen run
    assert picker.offer.isVisibleTo(picker) and "MostPopular" in picker.offer.text()
    assert picker.combo.count() == 2 and picker.current_id() == first
    picker.switch.click()                                     # the user accepts
    qtbot.waitUntil(lambda: explorer.run is not None and explorer.run.info.id == new, timeout=60000)
    assert state.run.id == new and picker.current_id() == new and picker.offered is None
    assert not picker.offer.isVisibleTo(picker)


def test_the_picker_switches_runs_and_dismiss_keeps_the_run(qtbot, controller, explorer):
    state, picker = controller.state, explorer.run_picker
    first = state.run.id
    new = _fit(controller, "itemknn")
    state.announce_run(new)
    qtbot.waitUntil(lambda: picker.offered is not None, timeout=30000)
    picker.dismiss.click()
    assert picker.offered is None and state.run.id == first
    index = picker.combo.findData(new)                        # the user picks it in the combo instead
    picker.combo.setCurrentIndex(index)
    picker.combo.activated.emit(index)
    qtbot.waitUntil(lambda: explorer.run is not None and explorer.run.info.id == new, timeout=60000)
    assert state.run.id == new
    assert picker.combo.itemText(0).startswith("ItemKNN")     # the newest first


def test_a_first_run_is_shown_at_once(qtbot, controller):
    """With no run on screen there is nothing to keep: the new run is selected."""
    state = controller.state
    qtbot.waitUntil(lambda: state.run is not None, timeout=30000)
    state.select_run(None)
    new = _fit(controller, "popularity")
    state.announce_run(new)
    qtbot.waitUntil(lambda: state.run is not None and state.run.id == new, timeout=30000)
