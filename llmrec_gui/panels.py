"""Window assembly: build the three views, put them in the window, connect what they ask of each other,
and apply the command line's explorer options. Called once the window is on screen (the views import
the plotting stack)."""
from __future__ import annotations


def preload_views() -> None:
    """In a worker thread, while the painted window keeps answering: import the views' modules and what
    they import (pyqtgraph, superqt, numpy, the engine), most of the time their build takes. Module code
    only: no Qt object is made here (widgets are made in the GUI thread, by build_panels)."""
    import engine.simulation.service  # noqa: F401  (the Simulate view lists the stored simulations at once)
    import llmrec_gui.widgets.datasets_panel  # noqa: F401
    import llmrec_gui.widgets.explorer_panel  # noqa: F401
    import llmrec_gui.widgets.simulate_panel  # noqa: F401
    import llmrec_gui.widgets.training_panel  # noqa: F401


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
    # one catalogue encoding for the app (Explore's Encode button, the background one after an import), and
    # the explorer reads the encoded share again whenever a run ends: a training encodes the catalogue
    from llmrec_gui.catalogue_encoding import CatalogueEncoding
    ctrl.encoding = CatalogueEncoding(parent=ctrl.window)
    ctrl.explorer_panel.search.attach_encoding(ctrl.encoding)
    ctrl.training_panel.job_finished.connect(lambda _how: ctrl.explorer_panel.search.recheck())
    ctrl.state.runs_changed.connect(lambda _runs: ctrl.explorer_panel.search.recheck())
    ctrl.encoding.ended.connect(lambda *_end: ctrl.training_panel.encoder_line.refresh())
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
    if a.rerank_space is not None:
        combo = ep.controls.rerank_space
        if combo.findData(a.rerank_space) < 0:            # semantic: offered once the catalogue is encoded
            combo.addItem(a.rerank_space, a.rerank_space)
        combo.setCurrentIndex(combo.findData(a.rerank_space))
    if a.k is not None:
        ep.k.setValue(a.k)
    if a.user is not None:
        ctrl.state.prefer_user = a.user
