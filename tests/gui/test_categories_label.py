"""A dataset whose categories are not genres (wines: type and grapes) is shown with its own label."""
from __future__ import annotations

from engine.ingest import import_files
from tests.engine.test_ingest_catalogue import write_wines


def test_plots_and_list_name_the_categories(qtbot, store, tmp_path):
    from engine.data.stats import compute_stats
    from llmrec_gui.widgets.dataset_plots import DatasetPlots
    from llmrec_gui.widgets.rec_list import COLUMNS, RecList
    ratings, wines, _ = write_wines(tmp_path)
    s = import_files(store, [ratings, wines], name="wines")
    st = compute_stats(store, s.dataset_id)
    assert st.genres_label == "Categories" and dict(st.genres)["Red"] == 2
    plots = DatasetPlots()
    qtbot.addWidget(plots)
    plots.show_stats(st)
    assert plots.genres.titleLabel.text.startswith("Items per category")
    rec = RecList()
    qtbot.addWidget(rec)
    rec.set_genres_label(st.genres_label)
    assert rec.horizontalHeaderItem(COLUMNS.index("Genres")).text() == "Categories"
