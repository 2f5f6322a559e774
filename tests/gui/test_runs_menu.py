"""The runs table's context menu (issue 22): build / remove the ANN index, export the run's record, compare
the selected runs, delete a run with its files (asked first, No by default)."""
from __future__ import annotations

import json
from pathlib import Path


def _fit(ctrl, model: str) -> int:
    from engine.data.demo import DEMO_NAME
    from engine.runs.baselines import fit_baseline
    return ctrl.state.store.call(fit_baseline, DEMO_NAME, model)


def test_runs_menu_compare_export_remove_index_and_delete(qtbot, controller, tmp_path):
    panel, state = controller.training_panel, controller.state
    qtbot.waitUntil(lambda: state.run is not None and panel.runs.rowCount() == 1, timeout=30000)
    first = state.run
    new = _fit(controller, "popularity")
    state.refresh_runs()
    qtbot.waitUntil(lambda: panel.runs.rowCount() == 2, timeout=30000)
    table = panel.runs
    table.selectRow(0)
    assert not [a for a in table.context_menu().actions() if a.text() == "Compare selected runs"][0].isEnabled()
    table.selectAll()                                          # two runs selected: compare them
    assert len(table.selected_runs()) == 2
    menu = table.context_menu()
    compare = [a for a in menu.actions() if a.text() == "Compare selected runs"][0]
    assert compare.isEnabled()
    compare.trigger()
    assert [r.id for r in panel.compare.rows] == [first.id, new]
    assert len(table.selected_runs()) == 2                     # choosing runs to compare keeps both selected

    out = tmp_path / "run.json"
    panel.export_run(first, str(out))
    qtbot.waitUntil(out.exists, timeout=30000)
    assert json.loads(out.read_text())["id"] == first.id

    panel.remove_index(first)
    qtbot.waitUntil(lambda: "no index removed" in panel.progress_label.text(), timeout=30000)

    assert not panel.delete_run(first)                         # the question's default (no dialogs here): No
    assert any(r.id == first.id for r in state.runs)
    root = Path(state.store.artifact_root)
    copied = root / first.artifact_dir                         # made for the template database, then copied
    assert panel.delete_run(first, confirmed=True)
    qtbot.waitUntil(lambda: all(r.id != first.id for r in state.runs), timeout=30000)
    assert copied.exists() and "files left alone" in panel.progress_label.text()    # not provably ours
    qtbot.waitUntil(lambda: state.run is not None and state.run.id == new, timeout=30000)
    own = root / state.run.artifact_dir                        # fitted by this database: its own files
    assert own.exists() and panel.delete_run(state.run, confirmed=True)
    qtbot.waitUntil(lambda: not state.runs, timeout=30000)
    assert not own.exists() and "deleted; its files removed" in panel.progress_label.text()
