"""The explorer: a baseline run on the tiny demo, live re-ranking with the slider, the heatmap
linked to the list, feedback, and exports."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import Qt


def items(rec) -> list[int]:
    return [r.item for r in rec.rows]


def titles(rec) -> list[str]:
    return [r.title for r in rec.rows]


def promoted(rec) -> np.ndarray:
    return np.array([r.promoted for r in rec.rows])


def test_slider_reranks_list_heatmap_and_metrics_together(qtbot, explorer):
    before_items = items(explorer.rec)
    before_matrix = explorer.heatmap.matrix.copy()
    assert not promoted(explorer.rec).any()  # trade-off 0: the model's own order
    assert explorer.list.rowCount() == 10
    assert explorer.list.item(0, 2).text() == titles(explorer.rec)[0]
    with qtbot.waitSignal(explorer.list_updated, timeout=5000):
        explorer.slider.setValue(1.0)
    qtbot.waitUntil(lambda: explorer.rec.tradeoff == 1.0, timeout=5000)
    after = explorer.rec
    assert items(after) != before_items
    assert promoted(after).any()
    assert not np.allclose(explorer.heatmap.matrix, before_matrix)
    assert explorer.heatmap.image.image.shape == (10, 10)
    # the list, heatmap and metrics show the same list
    assert [explorer.list.item(r, 2).text() for r in range(10)] == titles(after)
    promoted_rows = [r for r in range(10) if explorer.list.item(r, 1).text() == "◆"]
    assert promoted_rows == list(np.flatnonzero(promoted(after)))
    assert explorer.metrics.values["ILD (genres)"] == pytest.approx(after.metrics.ild_genre)
    assert "Promoted for diversity" in explorer.list.item(promoted_rows[0], 2).toolTip()


def test_dpp_and_spaces(qtbot, explorer):
    explorer.slider.setValue(0.7)
    explorer.method.setCurrentIndex(explorer.method.findData("dpp"))
    qtbot.waitUntil(lambda: explorer.rec.method == "dpp", timeout=5000)
    for space in ("text", "genres", "model"):
        explorer.space.setCurrentIndex(explorer.space.findData(space))
        qtbot.waitUntil(lambda: explorer.rec_space == space, timeout=5000)
        m = explorer.heatmap.matrix
        assert m.shape == (10, 10)
        diag = np.diag(m)
        assert np.all(np.isnan(diag) | np.isclose(diag, 1.0, atol=1e-4))


def test_rerank_space_setting_and_the_per_space_frontier(qtbot, explorer):
    """Issue 24: the slider re-ranks in the space chosen in the controls; "auto" says which space the run's
    frontier chose; the frontier draws every space, the slider's one bold."""
    combo = explorer.controls.rerank_space
    combo.setCurrentIndex(combo.findData("auto"))
    explorer.start_frontier()
    qtbot.waitUntil(lambda: explorer.choice is not None and bool(explorer.frontier.rows), timeout=60000)
    chosen = explorer.choice.space
    assert explorer.live.candidates().space == chosen and combo.itemText(combo.findData(chosen)) in combo.itemText(0)
    assert len(explorer.frontier.others) == len(explorer.choice.curves) - 1 >= 2
    explorer.slider.setValue(0.8)
    for space in ("categories", "model", "text"):
        combo.setCurrentIndex(combo.findData(space))
        qtbot.waitUntil(lambda: explorer.rec.metrics.space == space, timeout=5000)
        assert explorer.frontier.rows == explorer.choice.curves[space]
    # categories re-ranking reaches more category diversity at the same trade-off than the model space
    by = {}
    for space in ("model", "categories"):
        combo.setCurrentIndex(combo.findData(space))
        qtbot.waitUntil(lambda: explorer.rec.metrics.space == space, timeout=5000)
        by[space] = explorer.rec.metrics.ild_genre
    assert by["categories"] >= by["model"]


def test_heatmap_click_selects_item_and_list_selection_highlights(qtbot, explorer):
    hm = explorer.heatmap
    pos = hm.plot_widget.mapFromScene(hm.cell_center_scene(3, 6))
    with qtbot.waitSignal(hm.cell_clicked, timeout=3000) as sig:
        qtbot.mouseClick(hm.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert sig.args == [3, 6]
    assert explorer.list.current_row() == 3
    assert hm.selected == 3 and hm.highlight.isVisible()
    t = titles(explorer.rec)
    assert "similarity:" in hm.tooltip_text(3, 6) and t[6] in hm.tooltip_text(3, 6)
    # the click shows the pair: both items outlined, and why they are similar
    assert hm.pair_cell == (3, 6) and hm.pair.isVisible()
    why = explorer.detail.toPlainText()
    assert t[3] in why and t[6] in why and "similarity" in why and "genre" in why.lower()
    qtbot.mouseMove(hm.plot_widget.viewport(), pos=hm.plot_widget.mapFromScene(hm.cell_center_scene(2, 7)))
    qtbot.waitUntil(lambda: t[7] in hm.plot_widget.toolTip(), timeout=3000)
    assert t[2] in hm.plot_widget.toolTip()
    explorer.list.select_position(5)
    assert hm.selected == 5
    assert t[5] in explorer.detail.toPlainText()


def test_like_and_dislike_apply_at_once_and_persist(qtbot, explorer, controller):
    from PySide6.QtWidgets import QToolButton

    from engine.explore.feedback import list_feedback
    first = items(explorer.rec)[0]
    button = explorer.list.findChild(QToolButton, "dislike-0")
    with qtbot.waitSignal(explorer.list_updated, timeout=10000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert first not in items(explorer.rec)
    second = items(explorer.rec)[0]
    with qtbot.waitSignal(explorer.list_updated, timeout=10000):
        explorer.give_feedback(second, "like")
    assert second not in items(explorer.rec)          # now part of the history
    assert second in explorer.live.history()[0]
    store, ds_id, user = controller.state.store, explorer.run.info.dataset_id, controller.state.user
    qtbot.waitUntil(lambda: len(store.call(list_feedback, ds_id, user)) == 2, timeout=5000)
    assert [(e.item, e.kind) for e in store.call(list_feedback, ds_id, user)] == [(first, "dislike"), (second, "like")]


def test_user_picker_changes_user_and_history(qtbot, explorer, controller):
    old = controller.state.user
    explorer.users.search.setText("u0004")
    assert explorer.users.proxy.rowCount() >= 1
    idx = explorer.users.proxy.index(0, 0)
    explorer.users.view.setCurrentIndex(idx)
    new = int(idx.data(Qt.ItemDataRole.UserRole))
    assert new != old
    qtbot.waitUntil(lambda: explorer.live is not None and explorer.live.user == new, timeout=10000)
    assert explorer.history.rowCount() == len(explorer.live.history()[0])
    assert int(controller.settings.value("user")) == new


def test_frontier_plot_and_exports(qtbot, explorer, tmp_path):
    explorer.start_frontier()
    qtbot.waitUntil(lambda: len(explorer.frontier.rows) == 11, timeout=60000)
    assert explorer.frontier.rows[0]["tradeoff"] == 0.0
    explorer.slider.setValue(0.5)
    qtbot.waitUntil(lambda: explorer.rec.tradeoff == 0.5, timeout=5000)
    x, _y = explorer.frontier.marker.getData()
    assert len(x) == 1
    csv_path = explorer._export("list", str(tmp_path / "list.csv"))
    lines = open(csv_path, encoding="utf-8").read().splitlines()
    header = [x for x in lines if x.startswith("#")]
    assert "# tradeoff: 0.5" in header and any(x.startswith("# run: ") for x in header)
    assert any(x.startswith("# user: ") for x in header) and "# method: mmr" in header
    assert f"# rerank space: {explorer.rec.metrics.space}" in header
    rows = [x for x in lines if not x.startswith("#")]
    assert rows[0].startswith("rank,item_id,title") and len(rows) == 11
    meta = json.load(open(explorer._export("metrics", str(tmp_path / "m.json"))))
    assert meta["tradeoff"] == 0.5 and "ild_genre" in meta["metrics"] and meta["k"] == 10
    for what in ("heatmap", "frontier"):
        for ext in ("png", "svg"):
            p = explorer._export(what, str(tmp_path / f"{what}.{ext}"))
            assert (tmp_path / f"{what}.{ext}").stat().st_size > 1000, p


def test_model_without_item_vectors_uses_the_text_space(qtbot, explorer, controller):
    from engine.runs.baselines import fit_baseline
    store = controller.state.store
    run_id = store.call(fit_baseline, controller.state.dataset.name, "popularity")
    controller.state.refresh_runs(select=run_id)
    qtbot.waitUntil(lambda: explorer.run is not None and explorer.run.info.id == run_id
                    and explorer.rec is not None and explorer.live.user == controller.state.user
                    and "ILD (text)" in explorer.metrics.values, timeout=30000)
    assert "ILD (model)" not in explorer.metrics.labels
    explorer.slider.setValue(0.8)
    qtbot.waitUntil(lambda: explorer.rec.tradeoff == 0.8, timeout=5000)
    assert promoted(explorer.rec).any()
    assert explorer.heatmap.matrix.shape == (10, 10)
