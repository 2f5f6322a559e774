"""The search hits list: columns, the understood constraints, Like / Dislike / Not interested and undo."""
from __future__ import annotations

import pytest

from tests.engine.test_search_hybrid import WINES, _dataset


@pytest.fixture()
def wines():
    return _dataset(*zip(*WINES))


def test_hits_show_as_a_list_with_actions(qtbot, wines):
    from engine.language.search import search_items
    from llmrec_gui.widgets.search_results import COLUMNS, SearchResults
    table = SearchResults()
    qtbot.addWidget(table)
    res = search_items(wines, "Red", 5)
    table.set_result(res)
    assert table.rowCount() == 5
    col = {c: i for i, c in enumerate(COLUMNS)}
    assert [table.item(r, col["Title"]).text() for r in (0, 1)] == ["Red", "Red"]
    assert {table.item(r, col["Which"]).text() for r in (0, 1)} == {"Alpha", "Beta"}
    assert not table.isColumnHidden(col["Which"])
    assert table.item(0, col["ID"]).text() == res.hits[0].external_id
    with qtbot.waitSignal(table.feedback_given) as liked:
        table.cellWidget(1, col["Feedback"]).findChild(object, "like-1").click()
    assert liked.args == [res.hits[1].item, "like"]
    menu = table.context_menu(2)
    with qtbot.waitSignal(table.feedback_given) as hidden:
        menu.findChild(object, "not_interested").trigger()
    assert hidden.args == [res.hits[2].item, "not_interested"]
    assert not menu.findChild(object, "undo").isEnabled()
    table.can_undo = True
    with qtbot.waitSignal(table.undo_requested):
        table.context_menu(0).findChild(object, "undo").trigger()
    with qtbot.waitSignal(table.item_activated) as act:
        table.cellDoubleClicked.emit(3, 1)
    assert act.args == [res.hits[3].item]


def test_search_box_shows_the_understood_constraints_and_passes_feedback_on(qtbot, wines):
    from engine.language.search import search_items
    from llmrec_gui.widgets.search_box import SearchBox
    from llmrec_gui.widgets.search_results import COLUMNS
    box = SearchBox()
    qtbot.addWidget(box)
    box.dataset = wines
    box._show(search_items(wines, "full-bodied Portuguese red", 1))
    assert box.understood.text() == "Understood: <b>Full-bodied · Portugal · Red</b>"
    assert "words only" in box.status.text()
    assert box.hits.item(0, COLUMNS.index("Matches")).text() == "100%"
    assert box.hits.isColumnHidden(COLUMNS.index("Which"))          # "Reserva Tinto": a title of its own
    with qtbot.waitSignal(box.feedback_given) as got:
        box.hits.cellWidget(0, COLUMNS.index("Feedback")).findChild(object, "dislike-0").click()
    assert got.args == [box.hits.items[0], "dislike"]


def test_explore_takes_feedback_from_the_search_hits(qtbot, controller):
    from engine.explore.feedback import list_feedback
    from engine.language.search import search_items
    panel = controller.explorer_panel
    controller.window.show_view("explore")
    qtbot.waitUntil(lambda: panel.rec is not None and len(panel.rec.rows) == 10, timeout=60000)
    ds = panel.run.dataset
    top = panel.rec.rows[0].item
    panel.search._show(search_items(ds, ds.titles[top], 3))          # its exact title: first hit
    assert panel.search.hits.items[0] == top
    panel.search.hits.context_menu(0).findChild(object, "not_interested").trigger()
    store, ds_id, user = controller.state.store, ds.info.id, controller.state.user
    qtbot.waitUntil(lambda: [(e.item, e.kind) for e in store.call(list_feedback, ds_id, user)]
                    == [(top, "not_interested")], timeout=30000)
    qtbot.waitUntil(lambda: top not in [r.item for r in panel.rec.rows], timeout=30000)
    assert panel.search.hits.can_undo
