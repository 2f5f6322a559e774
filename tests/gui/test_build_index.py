""""Build index" in the app: the selected run's ANN index is built in a child process with progress and
Cancel, saved beside the run's files, and the explorer then takes its candidates from it (the status
says the index's nprobe and recall). The catalogue is tiny, so the build is forced (below 50,000
items the app asks first and, without dialogs, declines)."""
from __future__ import annotations

import os

from tests.engine.test_index_quantize import run_db  # noqa: F401  (fixture)
from tests.gui.conftest import make_controller


def test_build_index_from_the_app(qtbot, run_db, tmp_path):  # noqa: F811
    from engine.runs.loaded import run_path
    from engine.store import open_store
    db, run_id = run_db
    ctrl = make_controller(qtbot, db, tmp_path)
    panel, explorer = ctrl.training_panel, ctrl.explorer_panel
    ctrl.window.show_view("train")
    qtbot.waitUntil(lambda: ctrl.state.run is not None and ctrl.state.run.id == run_id, timeout=60000)
    qtbot.waitUntil(lambda: explorer.rec is not None and len(explorer.rec.rows) == 10, timeout=60000)
    assert "by score (exact)" in explorer.status.text()
    qtbot.waitUntil(lambda: "no ANN index" in panel.index_label.text(), timeout=30000)
    store = open_store(db)
    with store.session() as s:
        from engine.store import repository as repo
        folder = run_path(store, repo.get_run(s, run_id))
    store.close()

    # the context menu's action on a small catalogue: asked first; without dialogs, declined
    panel.runs.select_id(run_id)
    panel.runs.build_index_action.trigger()
    assert panel.job is None or not panel.job.running
    assert "exact search is used below 50,000" in panel.progress_label.text()

    # Cancel: nothing is written under the index's name
    with qtbot.waitSignal(panel.index_finished, timeout=120000) as blocker:
        assert panel.build_index(force=True)
        assert not panel.index_button.isEnabled() and not panel.start_button.isEnabled()
        panel.cancel()
    assert blocker.args == ["cancelled"]
    assert not (folder / "index.faiss").exists() and "cancelled" in panel.progress_label.text()

    with qtbot.waitSignal(panel.index_finished, timeout=300000) as blocker:
        assert panel.build_index(force=True)
    assert blocker.args == ["done"], panel.progress_label.text()
    assert (folder / "index.faiss").exists() and (folder / "index.json").exists()
    assert panel.index_button.isEnabled()
    for text in (panel.progress_label.text(), panel.index_label.text()):
        assert "IVF-SQ8" in text and "nprobe" in text and "recall@100" in text
    # the explorer re-scores the user through the index: its run now has one, and the list is back
    qtbot.waitUntil(lambda: explorer.live is not None and explorer.rec is not None, timeout=60000)
    assert explorer.run.index is not None and explorer.run.index.params.kind == "ivf-sq8"
    assert "ANN index" in explorer.status.text() and "nprobe" in explorer.status.text()
    assert len(explorer.rec.rows) == 10
    shots = os.environ.get("LLMREC_SHOTS")
    if shots:
        ctrl.window.grab().save(os.path.join(shots, "train_index.png"))
        ctrl.window.show_view("explore")
        ctrl.window.grab().save(os.path.join(shots, "explore_index.png"))
    ctrl.training_panel.shutdown()
