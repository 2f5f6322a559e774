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


def test_training_form_sends_a_work_budget_not_a_clock(qtbot):
    """Issue 24: by default the app's tuning has no time limit (the same seed, the same choice at any load);
    the number of settings and an optional time limit are the user's to set."""
    form = TrainingForm()
    qtbot.addWidget(form)
    form.set_values(model="lstm")
    cfg = form.config("demo")
    assert cfg.budget_s == 0.0 and cfg.max_trials == 0 and form.budget.text() == "no limit"
    form.trials.setValue(5)
    form.budget.setValue(10)
    cfg = form.config("demo")
    assert cfg.max_trials == 5 and cfg.budget_s == 600.0


def test_promoted_row_tooltip_says_promoted_once(qtbot):
    from types import SimpleNamespace

    from engine.explore.explain import _sentences
    from llmrec_gui.widgets.rec_list import RecList
    why = " ".join(_sentences([], "text", [("Drama", 2)], True, 0.31))
    rows = [SimpleNamespace(item=1, rank=1, promoted=False, title="A", genres=["Drama"], score=0.9,
                            explanation="Shares Drama (2 of your items)."),
            SimpleNamespace(item=2, rank=2, promoted=True, title="B", genres=["Drama"], score=0.5, explanation=why),
            SimpleNamespace(item=3, rank=3, promoted=True, title="C", genres=[], score=0.4,
                            explanation="Shares nothing.")]
    rec_list = RecList()
    qtbot.addWidget(rec_list)
    rec_list.set_list(SimpleNamespace(rows=rows))
    tips = [rec_list.item(row, 2).toolTip() for row in range(3)]
    assert "promoted" not in tips[0].lower()
    assert tips[1].lower().count("promoted for diversity") == 1 and "0.31" in tips[1]
    assert tips[2].lower().count("promoted for diversity") == 1


def test_feedback_status_is_replaced_by_its_outcome(qtbot, explorer, controller):
    bar = controller.window.statusBar()
    item = explorer.rec.rows[0].item
    title = explorer.run.dataset.titles[item]
    with qtbot.waitSignal(explorer.list_updated, timeout=10000):
        explorer.give_feedback(item, "dislike")
        assert bar.currentMessage().endswith("updating the list…")
    qtbot.waitUntil(lambda: bar.currentMessage() == f"Disliked “{title}”; the list is updated.", timeout=5000)
    with qtbot.waitSignal(explorer.list_updated, timeout=10000):
        explorer.undo()
        assert bar.currentMessage() == "Undoing feedback…"
    qtbot.waitUntil(lambda: bar.currentMessage() == "Feedback undone; the list is updated.", timeout=5000)
    assert item in [r.item for r in explorer.rec.rows]


def test_plots_label_their_y_axes_and_log_axes_have_no_zero(qtbot):
    from types import SimpleNamespace

    import numpy as np

    from llmrec_gui.widgets.dataset_plots import DatasetPlots
    from llmrec_gui.widgets.training_curves import TrainingCurves
    plots = DatasetPlots()
    qtbot.addWidget(plots)
    st = SimpleNamespace(rating_values=[1.0, 2.0, 3.0], rating_counts=[5, 9, 4], genres_label="Genres",
                         genres=[("Drama", 3)], per_item=np.array([40, 12, 3, 1, 0, 0]),
                         per_user=np.array([20, 7, 2]))
    plots.show_stats(st)
    assert plots.ratings.getAxis("left").labelText == "interactions"
    for plot in (plots.items, plots.users):
        ticks = plot.getAxis("left")._tickLevels[0]
        labels = [text for _, text in ticks]
        assert "0" not in labels and "1" in labels and plot.getAxis("left").labelText
        assert all(v >= 0 for v, _ in ticks)
        xs, ys = plot.listDataItems()[0].getData()
        assert np.isfinite(ys).all() and ys.min() >= 0
    assert "2 items with none" in plots.items.titleLabel.text
    assert "with none" not in plots.users.titleLabel.text
    curves = TrainingCurves()
    qtbot.addWidget(curves)
    assert curves.loss_plot.getAxis("left").labelText == "loss"
    assert curves.val_plot.getAxis("left").labelText


def test_one_name_for_the_categories_everywhere(qtbot):
    """A dataset whose categories are called "Categories" (wines) says so in the heatmap's space menu, the
    list metrics (with their tooltip), the pair explanation and the folded bar: never "genres"."""
    from types import SimpleNamespace

    from engine.explore.explain import explain_pair
    from llmrec_gui.widgets.dataset_plots import genre_bars
    from llmrec_gui.widgets.explorer_controls import ExplorerControls
    from llmrec_gui.widgets.explorer_view import metrics_dict
    from llmrec_gui.widgets.metrics_view import MetricsView
    from tests.engine.test_similarity import tiny_dataset
    controls = ExplorerControls()
    qtbot.addWidget(controls)
    controls.set_categories_name("categories")
    assert controls.space.itemText(controls.space.findData("genres")) == "categories"
    m = SimpleNamespace(ild_genre=0.5, ild_model=0.4, space="model", mean_cosine=0.3, novelty=9.0)
    rows = metrics_dict(m, "categories")
    assert "ILD (categories)" in rows and not any("genre" in k for k in rows)
    view = MetricsView()
    qtbot.addWidget(view)
    view.set_metrics(rows)
    assert "categories" in view.labels["ILD (categories)"].toolTip()
    assert genre_bars([(f"g{i}", 100 - i) for i in range(40)], 10, what="categories")[-1][0] == "31 other categories"
    import dataclasses
    ds = tiny_dataset(["A", "B", "C"], [("Red", "Syrah"), ("Red", "Merlot"), ("White",)])
    ds.info = dataclasses.replace(ds.info, genres_label="Categories")
    said = explain_pair(0, 1, "genres", dataset=ds)
    assert "Shared categories: Red." in said and "genre" not in said.lower()
    assert "Nothing shared among their categories." in explain_pair(0, 2, "genres", dataset=ds)


def test_long_tooltips_wrap_and_combos_show_whole_names(qtbot):
    """Issue 22: tooltips ran off screen and combo boxes cut their names ("LSTM two-tower (text-aware",
    "semant"). A long plain tooltip is shown as wrapped rich text; the combos are as wide as their longest
    item."""
    from PySide6.QtCore import QEvent, QPoint
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication, QLabel, QToolTip

    from llmrec_gui import tooltips
    from llmrec_gui.widgets.explorer_controls import ExplorerControls
    from llmrec_gui.widgets.training_form import TrainingForm
    f = tooltips.install(QApplication.instance())
    try:
        label = QLabel("hover me")
        qtbot.addWidget(label)
        label.setToolTip("word " * 40)
        label.show()
        QApplication.sendEvent(label, QHelpEvent(QEvent.Type.ToolTip, QPoint(2, 2), label.mapToGlobal(QPoint(2, 2))))
        assert QToolTip.text().startswith("<qt>") and "word word" in QToolTip.text()
        assert tooltips.wrapped("a < b\nc") == "<qt>a &lt; b<br>c</qt>"
    finally:
        QToolTip.hideText()
        QApplication.instance().removeEventFilter(f)
    form = TrainingForm()
    qtbot.addWidget(form)
    form.show()
    for combo in (form.model, form.device):
        widest = max(combo.fontMetrics().horizontalAdvance(combo.itemText(i)) for i in range(combo.count()))
        assert combo.sizeHint().width() > widest
    controls = ExplorerControls()
    qtbot.addWidget(controls)
    controls.offer_semantic(True)
    controls.show()
    space = controls.space
    assert space.sizeHint().width() > space.fontMetrics().horizontalAdvance("semantic")


def test_help_has_a_quick_guide_with_every_shortcut(qtbot, controller):
    """Issue 22: the Help menu had only About. F1 opens a guide: the views, slider, heatmap and frontier
    explained, every shortcut of the app's actions, and a link to the docs."""
    actions = controller.window.actions
    help_menu = [m for m in controller.window.menuBar().actions() if m.text() == "&Help"][0].menu()
    assert actions.guide in help_menu.actions()
    dialog = controller.show_guide()
    qtbot.addWidget(dialog)
    text = dialog.text.toPlainText()
    for topic in ("diversity slider", "heatmap", "frontier", "Keys"):
        assert topic in text
    for a in (actions.like, actions.undo, actions.import_data, actions.view_explore):
        assert a.shortcut().toString() in text
    assert "docs" in dialog.text.toHtml()


def test_explore_panels_resize_and_never_shrink_below_four_rows(qtbot, explorer):
    """Issue 22: the feedback table showed 3 rows. The left column's users, history and feedback are in
    a splitter the user drags, none collapsible, each at least four rows high."""
    from llmrec_gui.widgets.explorer_view import rows_height
    view = explorer.view
    left = view.left_split
    assert not left.childrenCollapsible() and not view.right_split.childrenCollapsible()
    for table in (view.users.view, view.history, view.feedback_view):
        assert table.minimumHeight() >= rows_height(table, 4)
    sizes = left.sizes()
    left.moveSplitter(0, 2)                                    # drag the last handle all the way down
    assert view.feedback_view.height() >= rows_height(view.feedback_view, 4)
    assert left.sizes() != sizes or sizes[2] >= rows_height(view.feedback_view, 4)
