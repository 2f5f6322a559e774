"""The explorer: a baseline run on the tiny demo, live re-ranking with the slider, the heatmap
linked to the list, feedback, and exports."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import Qt


@pytest.fixture
def explorer(qtbot, controller):
    panel = controller.explorer_panel
    controller.window.show_view("explore")
    qtbot.waitUntil(lambda: panel.rec is not None and len(panel.rec.items) == 10, timeout=60000)
    return panel


def test_slider_reranks_list_heatmap_and_metrics_together(qtbot, explorer):
    before_items = explorer.rec.items.copy()
    before_matrix = explorer.heatmap.matrix.copy()
    assert not explorer.rec.promoted.any()  # trade-off 0: the model's own order
    assert explorer.list.rowCount() == 10
    assert explorer.list.item(0, 2).text() == explorer.rec.titles[0]
    with qtbot.waitSignal(explorer.list_updated, timeout=5000):
        explorer.slider.setValue(1.0)
    qtbot.waitUntil(lambda: explorer.rec.tradeoff == 1.0, timeout=5000)
    after = explorer.rec
    assert not np.array_equal(after.items, before_items)
    assert after.promoted.any()
    assert not np.allclose(explorer.heatmap.matrix, before_matrix)
    assert explorer.heatmap.image.image.shape == (10, 10)
    # the list, heatmap and metrics show the same list
    assert [explorer.list.item(r, 2).text() for r in range(10)] == after.titles
    promoted_rows = [r for r in range(10) if explorer.list.item(r, 1).text() == "◆"]
    assert promoted_rows == list(np.flatnonzero(after.promoted))
    assert explorer.metrics.values["ILD (genres)"] == pytest.approx(after.metrics["ILD (genres)"])
    assert "Promoted for diversity" in explorer.list.item(promoted_rows[0], 2).toolTip()


def test_dpp_and_spaces(qtbot, explorer):
    explorer.slider.setValue(0.7)
    explorer.method.setCurrentIndex(explorer.method.findData("dpp"))
    qtbot.waitUntil(lambda: explorer.rec.method == "dpp", timeout=5000)
    for space in ("text", "genres", "model"):
        explorer.space.setCurrentIndex(explorer.space.findData(space))
        qtbot.waitUntil(lambda: explorer.rec.space == space, timeout=5000)
        m = explorer.heatmap.matrix
        assert m.shape == (10, 10)
        diag = np.diag(m)
        assert np.all(np.isnan(diag) | np.isclose(diag, 1.0, atol=1e-4))


def test_heatmap_click_selects_item_and_list_selection_highlights(qtbot, explorer):
    hm = explorer.heatmap
    pos = hm.plot_widget.mapFromScene(hm.cell_center_scene(3, 6))
    with qtbot.waitSignal(hm.cell_clicked, timeout=3000) as sig:
        qtbot.mouseClick(hm.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert sig.args == [3, 6]
    assert explorer.list.current_row() == 3
    assert hm.selected == 3 and hm.highlight.isVisible()
    assert "similarity:" in hm.tooltip_text(3, 6) and explorer.rec.titles[6] in hm.tooltip_text(3, 6)
    qtbot.mouseMove(hm.plot_widget.viewport(), pos=hm.plot_widget.mapFromScene(hm.cell_center_scene(2, 7)))
    qtbot.waitUntil(lambda: explorer.rec.titles[7] in hm.plot_widget.toolTip(), timeout=3000)
    assert explorer.rec.titles[2] in hm.plot_widget.toolTip()
    explorer.list.select_position(5)
    assert hm.selected == 5
    assert explorer.rec.titles[5] in explorer.detail.toPlainText()


def test_like_and_dislike_apply_at_once_and_persist(qtbot, explorer, controller):
    from engine.feedback import list_feedback
    from PySide6.QtWidgets import QToolButton
    first = int(explorer.rec.items[0])
    button = explorer.list.findChild(QToolButton, "dislike-0")
    with qtbot.waitSignal(explorer.list_updated, timeout=10000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert first not in explorer.rec.items
    second = int(explorer.rec.items[0])
    with qtbot.waitSignal(explorer.list_updated, timeout=10000):
        explorer.give_feedback(second, "like")
    assert second not in explorer.rec.items          # now part of the history
    assert second in explorer.cands.history_items
    store, ds_id, user = controller.state.store, explorer.session.ds.info.id, controller.state.user
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
    qtbot.waitUntil(lambda: explorer.cands is not None and explorer.cands.user == new, timeout=10000)
    assert explorer.history.rowCount() == len(explorer.cands.history_items)
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
    assert lines[0].startswith("rank,item_id,title") and len(lines) == 11
    meta = json.load(open(explorer._export("metrics", str(tmp_path / "m.json"))))
    assert meta["tradeoff"] == 0.5 and "ILD (genres)" in meta["metrics"]
    for what in ("heatmap", "frontier"):
        for ext in ("png", "svg"):
            p = explorer._export(what, str(tmp_path / f"{what}.{ext}"))
            assert (tmp_path / f"{what}.{ext}").stat().st_size > 1000, p


def test_model_without_item_vectors_uses_the_text_space(qtbot, explorer, controller):
    from engine.runs import fit_baseline
    store = controller.state.store
    run_id = store.call(fit_baseline, controller.state.dataset.name, "popularity")
    controller.state.refresh_runs(select=run_id)
    qtbot.waitUntil(lambda: explorer.session is not None and explorer.session.info.id == run_id
                    and explorer.rec is not None and explorer.rec.user == controller.state.user
                    and "ILD (text)" in explorer.metrics.values, timeout=30000)
    assert "ILD (model)" not in explorer.metrics.labels
    explorer.slider.setValue(0.8)
    qtbot.waitUntil(lambda: explorer.rec.tradeoff == 0.8, timeout=5000)
    assert explorer.rec.promoted.any()
    assert explorer.heatmap.matrix.shape == (10, 10)
