"""Window assembly: build the three views, put them in the window, connect what they ask of each other,
and apply the command line's explorer options. Called once the window is on screen (the views import
the plotting stack)."""
from __future__ import annotations


def build_panels(ctrl) -> None:
    from PySide6.QtWidgets import QApplication  # noqa: F401  (PySide6 first, then pyqtgraph)

    from llmrec_gui.widgets.datasets_panel import DatasetsPanel
    ctrl.datasets_panel = DatasetsPanel(ctrl.state)
    ctrl.datasets_panel.import_requested.connect(lambda: ctrl.open_import_wizard())
    ctrl.window.set_panel("datasets", ctrl.datasets_panel)
    from llmrec_gui.widgets.training_panel import TrainingPanel
    ctrl.training_panel = TrainingPanel(ctrl.state, ctrl.window.actions)
    ctrl.training_panel.explore_requested.connect(lambda: ctrl.window.show_view("explore"))
    ctrl.window.set_panel("train", ctrl.training_panel)
    from llmrec_gui.widgets.explorer_panel import ExplorerPanel
    ctrl.explorer_panel = ExplorerPanel(ctrl.state, ctrl.window.actions)
    ctrl.explorer_panel.fit_requested.connect(ctrl.training_panel.fit_baselines)
    ctrl.explorer_panel.train_requested.connect(lambda: ctrl.window.show_view("train"))
    ctrl.window.set_panel("explore", ctrl.explorer_panel)
    from llmrec_gui.widgets.simulate_panel import SimulatePanel
    ctrl.simulate_panel = SimulatePanel(ctrl.state)
    ctrl.window.set_panel("simulate", ctrl.simulate_panel)
    ep, a = ctrl.explorer_panel, ctrl.args
    if a.tradeoff is not None:
        ep.slider.setValue(min(1.0, max(0.0, a.tradeoff)))
    if a.method is not None:
        ep.method.setCurrentIndex(ep.method.findData(a.method))
    if a.space is not None:
        ep.space.setCurrentIndex(ep.space.findData(a.space))
    if a.k is not None:
        ep.k.setValue(a.k)
    if a.user is not None:
        ctrl.state.prefer_user = a.user
