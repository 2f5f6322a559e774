"""The Simulate view: a simulation run in the child process from the view (progress, then one line per
policy in every metric plot), a click on a round shows that round's lists, and Cancel stores nothing."""
from __future__ import annotations

import pytest


def _stored(store):
    from engine.simulation.service import list_simulations
    return store.call(list_simulations)


@pytest.fixture
def panel(qtbot, controller):
    p = controller.simulate_panel
    controller.window.show_view("simulate")
    qtbot.waitUntil(lambda: p.run.count() == len(controller.state.runs) > 0, timeout=30000)
    p.users.setValue(40)
    p.rounds.setValue(3)
    p.update_every.setValue(2)
    p.policies.setText("mmr:0 dpp:0.5")
    return p


def test_simulate_in_the_child_then_plots_and_lists(qtbot, panel, controller):
    seen = []
    panel.job = None
    panel.start()
    assert panel.job is not None and not panel.start_button.isEnabled()
    panel.job.progress.connect(seen.append)
    qtbot.waitUntil(lambda: panel.job is None, timeout=120000)
    assert "stored" in panel.status.text(), panel.status.text()
    qtbot.waitUntil(lambda: panel.simulation is not None and not panel.loading, timeout=30000)
    assert any(getattr(u, "stage", "").startswith("Simulating") for u in seen)
    sim = panel.simulation
    assert sim["settings"]["policies"] == ["mmr:0", "dpp:0.5"] and sim["settings"]["users"] == 40
    assert len(_stored(controller.state.store)) == 1
    assert sim["settings"]["update"] == panel.update.currentData() == "refit"     # the baseline run's default
    assert "homogenisation_vs_ideal" in panel.plots
    for key, plot in panel.plots.items():
        curves = [c for c in plot.listDataItems() if c.getData()[0] is not None and len(c.getData()[0])]
        # one line per policy; the homogenisation plot also has the ideal recommender's, dashed
        assert len(curves) == (3 if key == "homogenisation" else 2), key
        assert list(curves[0].getData()[0]) == [1, 2, 3]
    ideal = panel.plots["homogenisation"].listDataItems()[-1].getData()[1]
    assert list(ideal) == [r["metrics"]["homogenisation_ideal"] for r in sim["rounds"] if r["policy"] == "mmr:0"]
    panel.select_round(2)
    assert panel.lists.columnCount() == 2 and panel.lists.rowCount() == 10
    assert [panel.lists.horizontalHeaderItem(c).text() for c in range(2)] == ["mmr:0", "dpp:0.5"]
    user = panel.user.currentData()
    shown = next(r for r in sim["rounds"] if r["round"] == 2 and r["policy"] == "mmr:0")["lists"]["shown"][user]
    first = panel.lists.item(0, 0).text().removeprefix("✔ ")
    assert first == sim["titles"][shown[0]]
    assert panel.is_complete()


def test_cancel_stores_nothing(qtbot, panel, controller):
    """Cancel at once (no race with a fast simulation; a cancel in the middle of the rounds is tested on the
    engine, tests/engine/test_simulation.py::test_cancel_leaves_nothing)."""
    panel.start()
    job = panel.job
    panel.cancel()
    qtbot.waitUntil(lambda: panel.job is None, timeout=60000)
    assert job.cancel_requested
    assert panel.status.text().startswith("Cancelled")
    assert _stored(controller.state.store) == []


def test_a_bad_policy_is_said_and_nothing_starts(panel):
    panel.policies.setText("mmr:0 nope:2")
    panel.start()
    assert panel.job is None and "mmr, ild or dpp" in panel.status.text()
